# The report of bench/run.sh: the table (medians over rounds) and one line per target.
# Every ratio is computed per round, from scenarios that ran in the same noise window, and
# the median over rounds is printed. Sourced, not run.

HZ=$(getconf CLK_TCK)

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# awk over results.tsv; "all" is the CPU of every server the harness started, "front" the
# CPU of the scenario's own front server (the sidecar, nginx, scim2-server...).
results_awk() {
  awk -F'\t' -v hz="$HZ" -v groups="${ALL_GROUPS[*]}" -v fronts="$(front_list)" "$@"
}
front_list() {
  local id
  for id in "${SCENARIOS[@]}"; do printf '%s=%s ' "$id" "${FRONT[$id]}"; done
}

AWK_LOAD='
BEGIN {
  ng = split(groups, gname, " ")
  nf = split(fronts, fr, " ")
  for (i = 1; i <= nf; i++) { split(fr[i], kv, "="); front[kv[1]] = kv[2] }
}
{
  id = $1; r = $2; seen[id] = 1; if (r > rounds) rounds = r
  rps[id, r] = $3; p50[id, r] = $4; p99[id, r] = $5; reqs[id, r] = $6; bad[id] += $7
  t = 0; f = 0
  for (g = 1; g <= ng; g++) { t += $(7 + g); if (gname[g] == front[id]) f = $(7 + g) }
  if ($6 > 0) { all[id, r] = t / hz * 1e6 / $6; own[id, r] = f / hz * 1e6 / $6 }
}
function med(arr, n,   i, j, x) {
  for (i = 1; i <= n; i++)
    for (j = i + 1; j <= n; j++)
      if (arr[j] < arr[i]) { x = arr[i]; arr[i] = arr[j]; arr[j] = x }
  if (!n) return "nan"
  return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
function column(src, id,   r, n, v) {
  n = 0; delete v
  for (r = 1; r <= rounds; r++) if ((id, r) in src) v[++n] = src[id, r]
  return med(v, n)
}
function added(id,   r, n, v) {
  n = 0; delete v
  for (r = 1; r <= rounds; r++)
    if ((id, r) in all && ("direct", r) in all) v[++n] = all[id, r] - all["direct", r]
  return med(v, n)
}
'

print_table() {
  echo "## closed loop: wrk -t1 -c$CONNS (sc_conns256: -c256) -d${DUR}s, $ROUNDS round(s);" \
    "medians over rounds; CPU in microseconds per request"
  printf '%s\t' scenario rps p50_us p99_us cpu_all_us cpu_front_us added_vs_direct_us errors
  printf 'what\n'
  local id
  for id in "${SCENARIOS[@]}"; do
    results_awk -v want="$id" -v what="${WHAT[$id]}" "$AWK_LOAD"'
      END {
        if (!(want in seen)) { printf "%s\tnot run\n", want; exit }
        printf "%s\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%s\t%d\t%s\n", want, column(rps, want),
          column(p50, want), column(p99, want), column(all, want), column(own, want),
          (want == "direct" ? "-" : sprintf("%.1f", added(want))), bad[want], what
      }' "$RUN/results.tsv"
  done
  local u
  for u in "${UNAVAILABLE[@]}"; do printf '%s\tnot available\n' "$u"; done
}

# ratio NAME KIND X REF CMP TARGET WHAT
#   KIND added: (cpu[X] - cpu[direct]) / (cpu[REF] - cpu[direct]); total: cpu[X] / cpu[REF];
#   rps: rps[X] / rps[REF]. CMP le|ge.
ratio() {
  local name=$1 kind=$2 x=$3 ref=$4 cmp=$5 target=$6 what=$7
  results_awk -v x="$x" -v ref="$ref" -v k="$kind" -v cmp="$cmp" -v target="$target" \
    -v name="$name" -v what="$what" "$AWK_LOAD"'
    END {
      n = 0
      for (r = 1; r <= rounds; r++) {
        if (!((x, r) in all) || !((ref, r) in all)) continue
        if (k == "added") {
          if (!(("direct", r) in all)) continue
          den = all[ref, r] - all["direct", r]; if (den <= 0) continue
          v[++n] = (all[x, r] - all["direct", r]) / den
        } else if (k == "total") {
          if (all[ref, r] <= 0) continue
          v[++n] = all[x, r] / all[ref, r]
        }
        else { if (rps[ref, r] <= 0) continue; v[++n] = rps[x, r] / rps[ref, r] }
      }
      if (!n) { printf "RATIO %-10s not available (%s or %s did not run)\n", name, x, ref; exit }
      m = med(v, n)
      ok = (cmp == "le") ? (m <= target) : (m >= target)
      printf "RATIO %-10s %s = %.3f (target %s %s, %d round(s)) %s\n", name, what, m,
        (cmp == "le" ? "<=" : ">="), target, n, (ok ? "MET" : "MISSED")
    }' "$RUN/results.tsv"
}

print_ratios() {
  echo "## targets (sidecar / peer; per-round ratios, median)"
  ratio warm added sc_warm ng_warm le 0.6 \
    "warm path: sidecar added CPU/req over direct / nginx TLS+auth_request+proxy_cache's"
  ratio cold total sc_cold ng_cold le 1.0 \
    "cold path: sidecar CPU/req / nginx TLS+auth_request (uncached), new token each request"
  ratio proxy added sc_public ng_proxy le 1.0 \
    "proxy hop: sidecar public path added CPU/req / nginx TLS proxy's"
  if [ "$PASSTHROUGH" = 1 ]; then
    ratio handshake added sc_handshake ng_handshake le 1.0 \
      "full TLS handshake per request: sidecar added CPU/req / nginx's"
  else
    ratio handshake total sc_handshake ng_handshake_auth le 1.0 \
      "full TLS handshake per request (SCIM path; fallback): sidecar CPU/req / nginx's"
  fi
  ratio scim rps scim_sidecar scim_scim2 ge 20 \
    "SCIM mix throughput: sidecar+core / scim2-server"
  ratio scale_un total lookup_userName_l lookup_userName_s le 1.2 \
    "userName lookup CPU/req at $SCALE_LARGE users / at $SCALE_SMALL"
  ratio scale_ext total lookup_externalId_l lookup_externalId_s le 1.2 \
    "externalId lookup CPU/req at $SCALE_LARGE users / at $SCALE_SMALL"
  print_memory
  print_stampede
}

print_memory() {
  local limit=$((40 * 1024)) peak ng now
  peak=$(awk -F'\t' '{for (i = 2; i <= 3; i++) if ($i > m) m = $i} END {print m + 0}' \
    "$RUN/memory.tsv" 2>/dev/null || echo 0)
  ng=$(awk -F'\t' '$4 > m {m = $4} END {print m + 0}' "$RUN/memory.tsv" 2>/dev/null || echo 0)
  if [ "$peak" -gt 0 ]; then
    echo "RATIO rss        sidecar peak RSS with 256 connections = $(mib "$peak") MiB (idle after" \
      "start: $(mib "$IDLE_RSS_KB") MiB; nginx peer master+worker VmHWM: $(mib "$ng") MiB)" \
      "(target <= 40 MiB) $([ "$peak" -le "$limit" ] && echo MET || echo MISSED)"
  else
    echo "RATIO rss        not available (sc_conns256 did not run)"
  fi
  now=$(status_kb sidecar VmHWM)
  echo "RATIO rss_end    sidecar VmHWM at the end of the run (after the flood) =" \
    "$(mib "$now") MiB" \
    "(target <= 40 MiB) $([ "$now" -le "$limit" ] && echo MET || echo MISSED)"
  [ -s "$RUN/flood-rss.tsv" ] || return 0
  awk -F'\t' -v reqs="$FLOOD_REQS" -v bad="$FLOOD_BAD" -v cap="$CACHE_CAPACITY" '
    { t[NR] = $1; rss[NR] = $2 }
    END {
      n = NR; third = int(n / 3); if (third < 1) third = 1
      grow = rss[n] - rss[2 * third]; peak = 0
      for (i = 1; i <= n; i++) if (rss[i] > peak) peak = rss[i]
      ok = (reqs >= 2 * cap) && (grow <= 2048) && (bad == 0)
      printf "RATIO flood      %d new tokens (cache capacity %d): sidecar RSS %.1f -> %.1f MiB," \
        " peak %.1f; growth over the last third %d KiB (target: levels off, <= 2048 KiB;" \
        " needs >= 2x capacity" \
        " tokens) %s\n", reqs, cap, rss[1] / 1024, rss[n] / 1024, peak / 1024, grow,
        (ok ? "MET" : (reqs < 2 * cap ? "INCONCLUSIVE" : "MISSED"))
    }' "$RUN/flood-rss.tsv"
}

print_stampede() {
  [ -s "$RUN/stampede.tsv" ] || { echo "RATIO stampede   not run"; return 0; }
  awk -F'\t' -v c="$STAMPEDE_CLIENTS" '
    $1 == "sidecar" { n++; calls = calls " " $3; if ($3 != 1 || $4 !~ ("ok=" c " ")) bad++ }
    $1 == "nginx_nolock" { ctl = ctl " " $3 }
    END {
      printf "RATIO stampede   core lookups per brand-new token hit by %d concurrent clients:" \
        " sidecar%s (target exactly 1 each) %s; control, nginx cache without lock:%s\n", c, calls,
        (n && !bad ? "MET" : "MISSED"), ctl
    }' "$RUN/stampede.tsv"
}

print_latency() {
  [ -s "$RUN/latency.tsv" ] || return 0
  echo "## latency at a fixed offered rate: wrk -t1 -c$LAT_CONNS, each connection paced to" \
    "one request every $((LAT_CONNS * 1000 / LAT_RATE)) ms (~$LAT_RATE req/s), ${LAT_DUR}s; medians"
  printf 'scenario\tachieved_rps\tp50_us\tp99_us\n'
  awk -F'\t' '{ k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
                c[k]++; rps[k, c[k]] = $3; p50[k, c[k]] = $4; p99[k, c[k]] = $5 }
    function med(a, k, m,   i, j, x, v) { for (i = 1; i <= m; i++) v[i] = a[k, i]
      for (i = 1; i <= m; i++)
        for (j = i + 1; j <= m; j++)
          if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
      return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    END { for (i = 1; i <= n; i++) { k = order[i]
      printf "%s\t%.0f\t%.0f\t%.0f\n", k, med(rps, k, c[k]), med(p50, k, c[k]),
        med(p99, k, c[k]) } }' \
    "$RUN/latency.tsv"
}

# The smoke verdict: request errors anywhere, or a stampede that did not collapse to 1 call.
smoke_failures() {
  local errors
  errors=$(awk -F'\t' '{s += $7} END {print s + 0}' "$RUN/results.tsv")
  [ "$errors" -eq 0 ] || echo "request errors: $errors (see $RUN/wrk/)"
  [ "${FLOOD_BAD:-0}" -eq 0 ] || echo "flood: $FLOOD_BAD unexpected answers"
  awk -F'\t' -v c="$STAMPEDE_CLIENTS" '$1 == "sidecar" && ($3 != 1 || $4 !~ ("ok=" c " ")) {
    printf "stampede token %s: %s core lookups, clients: %s\n", $2, $3, $4 }' "$RUN/stampede.tsv"
  [ -s "$RUN/stampede.tsv" ] || echo "stampede did not run"
}
