#!/usr/bin/env bash
# authsidecar's cost beside nginx and scim2-server, on one 2-core Linux machine.
#
#   bench/run.sh            full run (the figures: run it on a quiet machine)
#   bench/run.sh --smoke    a few seconds per scenario, no timing judgement; fails only on
#                           request errors or when a stampede makes more than one core lookup
#   bench/run.sh --serve    start and check every server, print their addresses, keep them up
#                           for SERVE_SECS [600] (for profiling by hand), then stop them
#
# It installs nothing. It needs nginx and wrk (Debian packages), python3, sqlite3, curl,
# openssl, taskset and ss; scim2-server 0.8.3 in a venv ($VENV, default bench/.venv); and a
# release build of authsidecar, which it makes itself (cargo build --release) unless
# AUTHSIDECAR_BIN names a binary. It starts its own servers on 127.0.0.1 only, on ports
# PORT_BASE.. (refusing any that is taken), pins them to core SERVER_CPU and the load
# generator to core LOAD_CPU, runs the scenarios interleaved round by round, stops everything
# it started by PID, and prints a table and one RATIO line per target. docs/performance.md
# explains the scenarios, the numbers and how the harness keeps them honest.
#
# Environment (defaults in brackets): DUR [10] seconds per run, ROUNDS [3], CONNS [32],
# WARMUP [2] seconds per scenario, PORT_BASE [29100] (below the ephemeral ports),
# SERVER_CPU [0], LOAD_CPU [1], LAT_RATE [1000] req/s and LAT_CONNS [10] and LAT_DUR [5] for
# the fixed-rate latency, FLOOD_SECS [20], CACHE_CAPACITY [10000], NEG_TTL [30],
# SCALE_SMALL [1000], SCALE_LARGE [100000], STAMPEDE_CLIENTS [64], STAMPEDE_TOKENS [5],
# VENV [bench/.venv], AUTHSIDECAR_BIN, BENCH_RUN_DIR [bench/.run/<time>], KEEP_DATA [0],
# BENCH_NO_PASSTHROUGH [0] (1: run the fallbacks for a build without passthrough).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
SMOKE=0 SERVE=0
case "${1:-}" in
  --smoke) SMOKE=1 ;;
  --serve) SERVE=1 ;;
  "") ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [--smoke | --serve]" >&2; exit 64 ;;
esac

if [ "$SMOKE" = 1 ]; then
  DUR=${DUR:-1} ROUNDS=${ROUNDS:-1} WARMUP=${WARMUP:-0} FLOOD_SECS=${FLOOD_SECS:-2}
  SCALE_LARGE=${SCALE_LARGE:-20000} LAT_DUR=${LAT_DUR:-0}
fi
DUR=${DUR:-10} ROUNDS=${ROUNDS:-3} CONNS=${CONNS:-32} WARMUP=${WARMUP:-2}
PB=${PORT_BASE:-29100} SERVER_CPU=${SERVER_CPU:-0} LOAD_CPU=${LOAD_CPU:-1}
LAT_RATE=${LAT_RATE:-1000} LAT_CONNS=${LAT_CONNS:-10} LAT_DUR=${LAT_DUR:-5}
FLOOD_SECS=${FLOOD_SECS:-20} CACHE_CAPACITY=${CACHE_CAPACITY:-10000} NEG_TTL=${NEG_TTL:-30}
SCALE_SMALL=${SCALE_SMALL:-1000} SCALE_LARGE=${SCALE_LARGE:-100000}
STAMPEDE_CLIENTS=${STAMPEDE_CLIENTS:-64}
VENV=${VENV:-$BENCH/.venv}
RUN_ID=$(date +%Y%m%d-%H%M%S)
RUN=${BENCH_RUN_DIR:-$BENCH/.run/$RUN_ID}

. "$BENCH/lib/common.sh"
. "$BENCH/lib/setup.sh"
. "$BENCH/lib/measure.sh"
. "$BENCH/lib/report.sh"

SLEEPER=""
cleanup() {
  [ -z "$SLEEPER" ] || kill "$SLEEPER" 2>/dev/null || true
  stop_all
  if [ "${KEEP_DATA:-0}" != 1 ] && [ -d "$RUN" ]; then
    rm -rf "$RUN"/data-* "$RUN"/nginx-authcache "$RUN"/nginx-stampedecache
    # The sidecar logs a line per rejected token: the cold runs and the flood make ~100 MB.
    gzip -f "$RUN"/*.out 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_tools
find_binary
assign_ports
mkdir -p "$RUN/wrk"
: >"$RUN/results.tsv"; : >"$RUN/memory.tsv"; : >"$RUN/latency.tsv"
say "run directory: $RUN; binary: $BIN; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
make_cert
write_seed
write_configs
say "bulk-loading $SCALE_SMALL and $SCALE_LARGE users, starting the servers"
start_all
sanity
define_scenarios
if [ "$SERVE" = 1 ]; then
  serve_for "${SERVE_SECS:-600}"
  exit 0
fi
run_rounds
[ "$LAT_DUR" -gt 0 ] && run_latency
say "flood: ${FLOOD_SECS}s of new tokens (cache capacity $CACHE_CAPACITY)"
run_flood
say "stampede: $STAMPEDE_CLIENTS clients x $STAMPEDE_TOKENS new tokens"
run_stampede

{
  echo "# authsidecar bench $RUN_ID: $(uname -srm); $(nproc) cores; servers on core $SERVER_CPU," \
    "wrk on core $LOAD_CPU; $(basename "$BIN") $("$BIN" --version | cut -d' ' -f2);" \
    "$(nginx -v 2>&1 | cut -d' ' -f3); $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$PASSTHROUGH" = 1 ] || echo "# passthrough not available: $PASSTHROUGH_WHY"
  print_table
  print_latency
  print_ratios
} | tee "$RUN/summary.txt"

if [ "$SMOKE" = 1 ]; then
  failures=$(smoke_failures)
  if [ -n "$failures" ]; then
    printf 'SMOKE FAILED\n%s\n' "$failures"
    exit 1
  fi
  echo "SMOKE OK (timings above are not judged)"
fi
