# The measurements of bench/run.sh: the scenario table, one wrk run with its CPU readings,
# interleaved rounds, paced latency, the random-token flood, the stampede. Sourced, not run.

declare -A URL=() ARGS=() EXPECT=() FRONT=() NCONNS=() WHAT=()
SCENARIOS=()
UNAVAILABLE=()

scenario() {              # ID FRONT_GROUP EXPECT URL WHAT [wrk args joined by '|']
  SCENARIOS+=("$1"); FRONT[$1]=$2; EXPECT[$1]=$3; URL[$1]=$4; WHAT[$1]=$5; ARGS[$1]=${6:-}
  NCONNS[$1]=$CONNS
}

define_scenarios() {
  local auth="Authorization: Bearer $ADMIN_TOKEN" close='Connection: close'
  local sc="https://127.0.0.1:$P_SIDECAR" spc="$SCIM_BASE/ServiceProviderConfig"
  local lua=$BENCH/lua
  scenario direct app 2xx "http://127.0.0.1:$P_APP/" "the app called directly (baseline)"
  scenario ng_proxy peer 2xx "https://127.0.0.1:$P_NG_PROXY$PUBLIC_PATH" "nginx TLS proxy"
  scenario ng_warm peer 2xx "https://127.0.0.1:$P_NG_CACHE/" \
    "nginx TLS + auth_request + proxy_cache, cached token" "-H|$auth"
  scenario ng_cold peer 401 "https://127.0.0.1:$P_NG_AUTH/" \
    "nginx TLS + auth_request (no cache), new token each request" \
    "-s|$lua/unique-token.lua|--|@PREFIX@|/"
  scenario ng_handshake peer 2xx "https://127.0.0.1:$P_NG_PROXY$PUBLIC_PATH" \
    "nginx TLS proxy, new TLS connection each request" "-H|$close"
  scenario sc_spc sidecar 2xx "$sc$spc" "sidecar SCIM ServiceProviderConfig, cached token" \
    "-H|$auth"
  if [ "$PASSTHROUGH" = 1 ]; then
    scenario sc_public sidecar 2xx "$sc$PUBLIC_PATH" "sidecar public path (auth off) -> app"
    scenario sc_warm sidecar 2xx "$sc/" "sidecar cached token -> app" "-H|$auth"
    scenario sc_cold sidecar 401 "$sc/" "sidecar new token each request" \
      "-s|$lua/unique-token.lua|--|@PREFIX@|/"
    scenario sc_handshake sidecar 2xx "$sc$PUBLIC_PATH" \
      "sidecar public path, new TLS connection each request" "-H|$close"
    scenario sc_conns256 sidecar 2xx "$sc/" "sidecar cached token -> app, 256 connections" \
      "-H|$auth"
  else
    UNAVAILABLE+=("sc_public" "sc_warm")
    # Without passthrough the cold path and the handshake go through the SCIM endpoint,
    # which authenticates every request the same way.
    scenario sc_cold sidecar 401 "$sc$spc" "sidecar new token each request (SCIM path)" \
      "-s|$lua/unique-token.lua|--|@PREFIX@|$spc"
    scenario ng_handshake_auth peer 2xx "https://127.0.0.1:$P_NG_CACHE/" \
      "nginx TLS + auth_request + cache, new TLS connection each request" "-H|$auth|-H|$close"
    scenario sc_handshake sidecar 2xx "$sc$spc" \
      "sidecar SCIM (cached token), new TLS connection each request" "-H|$auth|-H|$close"
    scenario sc_conns256 sidecar 2xx "$sc$spc" "sidecar SCIM, cached token, 256 connections" \
      "-H|$auth"
  fi
  NCONNS[sc_conns256]=256
  scenario scim_sidecar sidecar 2xx "$sc" "SCIM mix (filter GET, POST, PATCH) via sidecar+core" \
    "-s|$lua/scim-mix.lua|--|$SCIM_BASE|$ADMIN_TOKEN|@PREFIX@"
  if [ -n "$SCIM2_SERVER" ]; then
    scenario scim_scim2 scim2 2xx "http://127.0.0.1:$P_SCIM2" "SCIM mix via scim2-server 0.8.3" \
      "-s|$lua/scim-mix.lua|--||$ADMIN_TOKEN|@PREFIX@"
  else
    UNAVAILABLE+=("scim_scim2")
  fi
  local size attr
  for size in s l; do
    local port=$P_SIDECAR_S n=$SCALE_SMALL
    [ "$size" = l ] && port=$P_SIDECAR_L n=$SCALE_LARGE
    for attr in userName externalId; do
      scenario "lookup_${attr}_$size" "sidecar_$size" 2xx "https://127.0.0.1:$port" \
        "filter GET by $attr, $n users (sidecar+core)" \
        "-s|$lua/lookup.lua|--|$SCIM_BASE|$ADMIN_TOKEN|$attr|$n"
    done
  done
}

# --serve: print each scenario's wrk command and every server's PID, then wait (bounded).
serve_for() {
  local id g
  for g in "${ALL_GROUPS[@]}"; do say "server $g: pid ${GROUP_PID[$g]}"; done
  for id in "${SCENARIOS[@]}"; do
    wrk_args "$id" "bench-serve-$id"
    say "$id: wrk -t1 -c${NCONNS[$id]} -d10s --latency $(printf "'%s' " "${WRK_ARGS[@]}")"
  done
  say "serving for ${1}s (Ctrl-C stops everything)"
  sleep "$1" & SLEEPER=$!
  wait "$SLEEPER"
}

# WRK_ARGS: the scenario's wrk options, its URL, then "--" and the script's arguments
# (wrk reads what follows the URL as the script's), @PREFIX@ made unique per run.
wrk_args() {              # ID PREFIX
  local all=() a opts=() script=() after=0
  IFS='|' read -r -a all <<<"${ARGS[$1]}"
  for a in "${all[@]}"; do
    if [ "$after" = 1 ]; then script+=("${a//@PREFIX@/$2}")
    elif [ "$a" = -- ]; then after=1
    else opts+=("$a"); fi
  done
  WRK_ARGS=("${opts[@]}" "${URL[$1]}")
  [ "$after" = 0 ] || WRK_ARGS+=(-- "${script[@]}")
}

# One wrk run of scenario ID, with every server group's CPU ticks read before and after.
# Appends to results.tsv: id round rps p50_us p99_us requests bad ticks-per-group...
run_wrk() {               # ID ROUND DURATION
  local id=$1 round=$2 dur=$3 t0 t1 out
  wrk_args "$id" "bench-$RUN_ID-$id-$round"
  local sampler=""
  if [ "$id" = sc_conns256 ]; then
    sample_rss sidecar "$RUN/rss-$id-$round.txt" & sampler=$!
  fi
  t0=$(cpu_line)
  out=$(taskset -c "$LOAD_CPU" timeout $((dur + 30)) wrk -t1 -c"${NCONNS[$id]}" -d"${dur}s" \
    --timeout 10s --latency "${WRK_ARGS[@]}" 2>&1) || true
  t1=$(cpu_line)
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
  fi
  printf '%s\n' "$out" >"$RUN/wrk/$id-$round.txt"
  local reqs rps p50 p99 non2xx sockerr unexpected bad
  reqs=$(awk '/requests in/ {print $1}' <<<"$out"); reqs=${reqs:-0}
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out"); rps=${rps:-0}
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
  sockerr=${sockerr:-0}
  if [ "${EXPECT[$id]}" = 401 ]; then
    unexpected=$(awk '/^unexpected-status/ {print $2}' <<<"$out")
    bad=$((${unexpected:-$reqs} + sockerr))
  else
    bad=$((non2xx + sockerr))
  fi
  [ "$reqs" -gt 0 ] || bad=$((bad + 1))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$round" "$rps" "$p50" "$p99" "$reqs" "$bad" \
    "$(paste <(tr '\t' '\n' <<<"$t0") <(tr '\t' '\n' <<<"$t1") | awk '{print $2 - $1}' |
      paste -sd '\t')" >>"$RUN/results.tsv"
  if [ "$bad" -gt 0 ]; then
    say "$id round $round: $bad request errors (wrk output: $RUN/wrk/$id-$round.txt)"
  fi
  if [ "$id" = sc_conns256 ]; then
    # VmHWM alone is not enough: since Linux 6.2 RSS is counted per CPU and the high-water
    # mark is only folded in now and then, so a later VmHWM can read below an earlier VmRSS.
    # The peak is the largest of VmHWM and the VmRSS samples taken during the run.
    local sampled
    sampled=$(sort -n "$RUN/rss-$id-$round.txt" 2>/dev/null | tail -n 1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$(status_kb sidecar VmHWM)" "${sampled:-0}" \
      "$(status_kb peer VmHWM)" "$IDLE_RSS_KB" >>"$RUN/memory.tsv"
  fi
}

sample_rss() {            # GROUP FILE: VmRSS every 0.2 s until killed
  while :; do status_kb "$1" VmRSS >>"$2"; sleep 0.2; done
}

# Rounds: every scenario once per round, the order rotated each round, so that every
# scenario sees the same background load and none is always first or last.
run_rounds() {
  local r i n=${#SCENARIOS[@]} id
  if [ "$WARMUP" -gt 0 ]; then
    say "warm-up: ${WARMUP}s per scenario"
    for id in "${SCENARIOS[@]}"; do run_wrk "$id" 0 "$WARMUP"; done
    : >"$RUN/results.tsv"; : >"$RUN/memory.tsv"
  fi
  for r in $(seq 1 "$ROUNDS"); do
    say "round $r/$ROUNDS ($n scenarios x ${DUR}s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
    for i in $(seq 0 $((n - 1))); do
      run_wrk "${SCENARIOS[$(((i + r - 1) % n))]}" "$r" "$DUR"
    done
  done
}

# p50 at a fixed offered rate (LAT_RATE requests/s over LAT_CONNS paced connections).
run_latency() {
  local ids=(direct ng_proxy ng_warm sc_spc) id r interval out
  [ "$PASSTHROUGH" = 1 ] && ids+=(sc_public sc_warm)
  interval=$((LAT_CONNS * 1000 / LAT_RATE))
  for r in $(seq 1 "$ROUNDS"); do
    for id in "${ids[@]}"; do
      wrk_args "$id" unused
      out=$(taskset -c "$LOAD_CPU" timeout $((LAT_DUR + 30)) wrk -t1 -c"$LAT_CONNS" \
        -d"${LAT_DUR}s" --timeout 10s --latency -s "$BENCH/lua/paced.lua" "${WRK_ARGS[@]}" \
        -- "$interval" 2>&1) || true
      printf '%s\n' "$out" >"$RUN/wrk/paced-$id-$r.txt"
      printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$r" "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
        "$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")" \
        "$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")" >>"$RUN/latency.tsv"
    done
  done
}

# A flood of never-seen tokens at the sidecar; its RSS is sampled every 0.5 s. With a cache of
# CACHE_CAPACITY verdicts the RSS must level off once the cache is full.
run_flood() {
  local path=/ out
  [ "$PASSTHROUGH" = 1 ] || path=$SCIM_BASE/ServiceProviderConfig
  (
    for _ in $(seq 1 $((FLOOD_SECS * 2 + 4))); do
      printf '%s\t%s\n' "$(date +%s.%N)" "$(status_kb sidecar VmRSS)"
      sleep 0.5
    done
  ) >"$RUN/flood-rss.tsv" &
  local sampler=$!
  sleep 1
  out=$(taskset -c "$LOAD_CPU" timeout $((FLOOD_SECS + 30)) wrk -t1 -c"$CONNS" \
    -d"${FLOOD_SECS}s" --timeout 10s -s "$BENCH/lua/unique-token.lua" \
    "https://127.0.0.1:$P_SIDECAR" -- "bench-flood-$RUN_ID" "$path" 2>&1) || true
  wait "$sampler" 2>/dev/null || true
  printf '%s\n' "$out" >"$RUN/wrk/flood.txt"
  FLOOD_REQS=$(awk '/requests in/ {print $1}' <<<"$out")
  FLOOD_BAD=$(awk '/^unexpected-status/ {print $2}' <<<"$out")
  FLOOD_REQS=${FLOOD_REQS:-0}; FLOOD_BAD=${FLOOD_BAD:-$FLOOD_REQS}
}

# The stampede: STAMPEDE_CLIENTS clients, one brand-new valid token, all at once; the
# stampede core's debug log has one "core request" line per introspection call. The same
# tokens then go to nginx's cache without proxy_cache_lock (its own cache: new to it too):
# more than one call there shows that the clients' requests really overlapped.
# (The log may carry colour codes: match the route's value alone.)
introspections() { grep -c '"/internal/v1/introspect"' "$RUN/core_st.out" || true; }

run_stampede() {
  local spc=$SCIM_BASE/ServiceProviderConfig target port path i before out
  : >"$RUN/stampede.tsv"
  for target in sidecar nginx_nolock; do
    case $target in
      sidecar) port=$P_SIDECAR_ST; path=/; [ "$PASSTHROUGH" = 1 ] || path=$spc ;;
      nginx_nolock) port=$P_NG_STAMPEDE; path=/ ;;
    esac
    for i in $(seq 1 "$STAMPEDE_TOKENS"); do
      before=$(introspections)
      out=$(taskset -c "$LOAD_CPU" timeout 30 python3 "$BENCH/stampede.py" 127.0.0.1 "$port" \
        "$path" "bench-stampede-token-$i" "$STAMPEDE_CLIENTS" 200 2>&1) || true
      # The core logs after it answers: wait for the first line (bounded), then let late
      # ones land, so a slow log write is not read as zero calls here and two calls later.
      for _ in $(seq 1 50); do [ "$(introspections)" -gt "$before" ] && break; sleep 0.1; done
      sleep 0.3
      printf '%s\t%s\t%s\t%s\n' "$target" "$i" "$(($(introspections) - before))" "$out" \
        >>"$RUN/stampede.tsv"
    done
  done
}
