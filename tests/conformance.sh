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
# Every shared case file: the lifecycle, auth and roles cases and all the rest.
case_files=(entra-lifecycle.json auth.json roles.json concurrency.json content.json
  discovery.json enterprise.json errors.json filter.json pagination.json patch.json)
# scim2-tester checks our published User schema implies (discovery, CRUD, PATCH on every
# attribute, attributes/excludedAttributes). A discovery failure makes the suite skip groups
# of checks instead of failing them, so a shorter run is a failure.
min_tester_checks=114
venv=${CONFORMANCE_VENV:-$root/.venv-conformance}

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

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'scim2-tester==0.5.2' \
  'scim2-client[httpx2]==0.13.2' 'scim2-models==0.12.3'

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

echo
echo "scim2-tester against $base"
SCIM_TOKEN=ci-acme-admin "$venv/bin/python" "$shared/conformance/run_scim2_tester.py" "$base" \
  --cacert "$cacert" --resource-type User --json "$work/tester.json"
"$venv/bin/python" - "$work/tester.json" "$min_tester_checks" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
results = report["results"]
titles = {r["title"] for r in results}
need = {"object_creation", "object_query", "object_replacement", "object_deletion",
        "check_add_attribute", "check_replace_attribute", "check_remove_attribute"}
missing = sorted(need - titles)
bad = [r for r in results if r["status"] not in ("SUCCESS", "COMPLIANT", "ACCEPTABLE")]
print(f"scim2-tester: {len(results)} checks, counts {report['counts']}")
if missing:
    sys.exit(f"scim2-tester did not run {missing}: discovery must have failed")
if len(results) < int(sys.argv[2]):
    sys.exit(f"scim2-tester ran {len(results)} checks, fewer than {sys.argv[2]}")
if bad:
    sys.exit(f"scim2-tester: {len(bad)} checks did not pass")
PY
