# Shared helpers of bench/run.sh: logging, the processes the harness starts (and only those),
# ports, CPU and memory readings from /proc, medians. Sourced, not run.

say() { printf '# %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit "${2:-1}"; }

# --- processes: every server is started here, pinned to SERVER_CPU, and remembered by group.
declare -A GROUP_PID=()   # group name -> PID of the process we started

start_server() {          # start_server GROUP CMD... ; output in $RUN/GROUP.out
  local group=$1; shift
  taskset -c "$SERVER_CPU" "$@" >"$RUN/$group.out" 2>&1 &
  GROUP_PID[$group]=$!
}

stop_server() {           # stop_server GROUP: TERM, up to 10 s, then KILL; by PID only
  local pid=${GROUP_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "GROUP_PID[$1]"
}

stop_all() {              # TERM to every server at once, then wait for each (bounded)
  local g
  for g in "${!GROUP_PID[@]}"; do kill -TERM "${GROUP_PID[$g]}" 2>/dev/null || true; done
  for g in "${!GROUP_PID[@]}"; do stop_server "$g"; done
}

group_pids() {            # the group's process and its children (nginx workers)
  local pid=${GROUP_PID[$1]:-}
  [ -n "$pid" ] || return 0
  echo "$pid"
  ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ' || true
}

# --- ports
port_in_use() { ss -Hltn "sport = :$1" | grep -q .; }

wait_port() {             # wait_port PORT GROUP: listening, and by a process of GROUP
  local port=$1 group=$2 owner
  for _ in $(seq 1 300); do
    owner=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
    if [ -n "$owner" ]; then
      group_pids "$group" | grep -qx "$owner" && return 0
      die "port $port is owned by pid $owner, not by the $group we started" 3
    fi
    kill -0 "${GROUP_PID[$group]}" 2>/dev/null || {
      tail -n 20 "$RUN/$group.out" >&2
      die "$group exited before listening on $port (log: $RUN/$group.out)" 3
    }
    sleep 0.1
  done
  die "$group never listened on $port (log: $RUN/$group.out)" 3
}

# --- CPU: utime + stime (fields 14 and 15 of /proc/PID/stat, clock ticks) of every thread
# of a group's processes. One line, one field per group in ALL_GROUPS order.
ALL_GROUPS=()
cpu_line() {
  local g p t out=""
  for g in "${ALL_GROUPS[@]}"; do
    t=0
    for p in $(group_pids "$g"); do
      [ -r "/proc/$p/stat" ] || continue
      # The command name (field 2) may hold spaces: count fields after its closing ')'.
      t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    out+="$t"$'\t'
  done
  printf '%s\n' "${out%$'\t'}"
}

# --- memory: /proc/PID/status fields in kB (VmRSS now, VmHWM the peak so far).
status_kb() {             # status_kb GROUP FIELD: summed over the group's processes
  local p t=0 v
  for p in $(group_pids "$1"); do
    v=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# --- numbers
median() {                # numbers on stdin, one a line -> median ("nan" if none)
  sort -g | awk '{a[NR] = $1} END {
    if (!NR) { print "nan"; exit }
    if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

to_us() {                 # wrk duration (850.00us, 1.20ms, 2.00s) -> microseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
    else print "nan" }'
}
