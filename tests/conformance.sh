#!/usr/bin/env bash
# Runs the shared black-box suites against the real binary:
#   - ../shared/conformance/scimcases.py over the case files below;
#   - the public scim2-tester suite (../shared/conformance/run_scim2_tester.py).
# It starts `authsidecar dev --seed config/seed.example.yaml` on 127.0.0.1
# port 0 with a fresh data dir, reads the address from its banner, and
# stops it by PID at the end. Usage: tests/conformance.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${1:-$root/../shared}
case_files=(entra-lifecycle.json auth.json roles.json)

work=$(mktemp -d "${TMPDIR:-/tmp}/authsidecar-conformance.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --bin authsidecar
./target/debug/authsidecar dev --listen 127.0.0.1:0 --data "$work/data" \
  --seed config/seed.example.yaml >"$work/stdout" 2>"$work/stderr" &
pid=$!

base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/^ *SCIM base URL *: *\(https:[^ ]*\).*/\1/p' "$work/stdout" | head -n 1)
  [ -n "$base" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "authsidecar dev exited early:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "authsidecar dev did not print its address" >&2
  cat "$work/stderr" >&2
  exit 1
fi
echo "authsidecar dev at $base (pid $pid)"
cacert="$work/data/dev-cert.pem"

files=()
for f in "${case_files[@]}"; do files+=("$shared/cases/$f"); done
python3 "$shared/conformance/scimcases.py" --base "$base" --cacert "$cacert" \
  --admin-token ci-acme-admin --member-token ci-acme-viewer \
  --other-token ci-globex-admin --json "$work/scimcases.json" "${files[@]}"
