# Setup for bench/run.sh: tool checks, ports, certificate, seed, configs, the bulk-loaded
# scale databases, starting every server, and the sanity checks that decide which scenarios
# can run. Sourced, not run.

ADMIN_TOKEN=bench-admin-token-0001
STAMPEDE_TOKENS=${STAMPEDE_TOKENS:-5}
SCIM_BASE=/api/v1/scim/v2
PUBLIC_PATH=/public/asset.txt

check_tools() {
  local missing=() t
  for t in nginx wrk taskset ss sqlite3 python3 curl openssl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (Debian: apt-get install -y \
nginx wrk util-linux iproute2 sqlite3 curl openssl python3; the harness installs nothing)" 2
  [ "$(nproc)" -ge 2 ] || die "needs 2 cores (servers on one, the load generator on the other)" 2
  SCIM2_SERVER=$VENV/bin/scim2-server
  if [ ! -x "$SCIM2_SERVER" ]; then
    say "scim2-server not found in $VENV (python3 -m venv $VENV &&" \
      "$VENV/bin/pip install scim2-server==0.8.3); the SCIM comparison is not available"
    SCIM2_SERVER=""
  fi
}

find_binary() {
  if [ -n "${AUTHSIDECAR_BIN:-}" ]; then
    BIN=$AUTHSIDECAR_BIN
  else
    say "building authsidecar (cargo build --release --bin authsidecar)"
    (cd "$REPO" && cargo build --quiet --release --bin authsidecar) || die "release build failed"
    BIN=$REPO/target/release/authsidecar
  fi
  [ -x "$BIN" ] || die "no authsidecar binary at $BIN" 2
}

assign_ports() {
  P_APP=$PB;                  P_CORE=$((PB + 1));       P_SIDECAR=$((PB + 2))
  P_NG_PROXY=$((PB + 10));    P_NG_AUTH=$((PB + 11));   P_NG_CACHE=$((PB + 12))
  P_NG_STAMPEDE=$((PB + 13)); P_SCIM2=$((PB + 20))
  P_CORE_S=$((PB + 30));      P_SIDECAR_S=$((PB + 31))
  P_CORE_L=$((PB + 32));      P_SIDECAR_L=$((PB + 33))
  P_CORE_ST=$((PB + 40));     P_SIDECAR_ST=$((PB + 41))
  local p
  for p in $P_APP $P_CORE $P_SIDECAR $P_NG_PROXY $P_NG_AUTH $P_NG_CACHE $P_NG_STAMPEDE \
    $P_SCIM2 $P_CORE_S $P_SIDECAR_S $P_CORE_L $P_SIDECAR_L $P_CORE_ST $P_SIDECAR_ST; do
    port_in_use "$p" && die "port $p is already in use; pick another PORT_BASE (now $PB)" 2
  done
  return 0
}

make_cert() {             # one P-256 certificate for nginx and the sidecar alike
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$RUN/key.pem" -out "$RUN/cert.pem" >/dev/null 2>&1 || die "openssl failed"
  CERT=$RUN/cert.pem KEY=$RUN/key.pem
}

write_seed() {
  {
    echo "workspaces:"
    echo "  - id: acme"
    echo "    roles: [Admin, Buyer, Approver, Viewer]"
    echo "    tokens:"
    echo "      - { name: bench-admin, secret: \"$ADMIN_TOKEN\", role: Admin }"
    for i in $(seq 1 "$STAMPEDE_TOKENS"); do
      echo "      - { name: stampede-$i, secret: \"bench-stampede-token-$i\", role: Admin }"
    done
  } >"$RUN/seed.yaml"
}

write_sidecar_config() {  # FILE LISTEN_PORT CORE_PORT WITH_APP(0|1)
  {
    echo "listen: \"127.0.0.1:$2\""
    echo "tls: { cert_file: \"$CERT\", key_file: \"$KEY\" }"
    echo "core: { base_url: \"http://127.0.0.1:$3\" }"
    # A flood of random tokens fills the cache: a capacity the flood exceeds within seconds,
    # and a negative TTL long enough that capacity, not expiry, bounds the entries.
    echo "auth: { cache_ttl_secs: 30, negative_ttl_secs: $NEG_TTL," \
      "cache_capacity: $CACHE_CAPACITY }"
    echo "log: { format: plain, level: info }"
    if [ "$4" = 1 ]; then
      echo "app: { base_url: \"http://127.0.0.1:$P_APP\", public_paths: [\"/public/\"] }"
      # Nothing to drain for: stop at once when the harness is done.
      echo "lifecycle: { drain_secs: 0, shutdown_deadline_secs: 2 }"
    fi
  } >"$1"
}

write_configs() {
  APP_SECTION=1
  write_sidecar_config "$RUN/probe.yaml" "$P_SIDECAR" "$P_CORE" 1
  if ! "$BIN" check-config --config "$RUN/probe.yaml" >"$RUN/check-config.out" 2>&1; then
    say "this build refuses the app section (see $RUN/check-config.out): no passthrough"
    APP_SECTION=0
  fi
  write_sidecar_config "$RUN/sidecar.yaml" "$P_SIDECAR" "$P_CORE" "$APP_SECTION"
  write_sidecar_config "$RUN/sidecar-s.yaml" "$P_SIDECAR_S" "$P_CORE_S" "$APP_SECTION"
  write_sidecar_config "$RUN/sidecar-l.yaml" "$P_SIDECAR_L" "$P_CORE_L" "$APP_SECTION"
  write_sidecar_config "$RUN/sidecar-st.yaml" "$P_SIDECAR_ST" "$P_CORE_ST" "$APP_SECTION"
  "$BIN" check-config --config "$RUN/sidecar.yaml" >/dev/null || die "generated config invalid"
  local t
  for t in app peer; do
    sed -e "s|@RUN@|$RUN|g; s|@BENCH@|$BENCH|g; s|@CERT@|$CERT|g; s|@KEY@|$KEY|g" \
      -e "s|@P_APP@|$P_APP|g; s|@P_CORE@|$P_CORE|g; s|@P_CORE_ST@|$P_CORE_ST|g" \
      -e "s|@P_NG_PROXY@|$P_NG_PROXY|g; s|@P_NG_AUTH@|$P_NG_AUTH|g" \
      -e "s|@P_NG_CACHE@|$P_NG_CACHE|g; s|@P_NG_STAMPEDE@|$P_NG_STAMPEDE|g" \
      "$BENCH/nginx/$t.conf.tmpl" >"$RUN/nginx-$t.conf"
  done
}

# The scale databases: the real core creates the file and its schema (started once on port 0
# and stopped), then sqlite3 inserts N users in one transaction, e-mail index rows included,
# shaped as the sidecar writes them (the SCIM resource in `profile`, the indexed columns).
# No ANALYZE: the query plans are the ones a core that never ran it would use.
bulk_load() {             # DATA_DIR N
  local dir=$1 n=$2 group=init-$RANDOM
  start_server "$group" "$BIN" core --listen 127.0.0.1:0 --data "$dir" --seed "$RUN/seed.yaml"
  for _ in $(seq 1 300); do
    grep -q 'is listening' "$RUN/$group.out" && break
    kill -0 "${GROUP_PID[$group]}" 2>/dev/null || die "core init failed: $RUN/$group.out"
    sleep 0.1
  done
  stop_server "$group"
  sqlite3 "$dir/core.sqlite3" <<SQL || die "bulk load into $dir failed"
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
INSERT INTO users (id, workspace, user_name, user_name_lower, external_id, active, emails,
                   roles, profile, version, created, last_modified)
SELECT printf('00000000-0000-4000-8000-%012d', i), 'acme',
       'scale-user-' || i || '@bench.example', 'scale-user-' || i || '@bench.example',
       'scale-ext-' || i, 1, json_array('scale-user-' || i || '@bench.example'),
       json_array('Buyer'),
       json_object('active', json('true'), 'displayName', 'Scale User ' || i,
         'emails', json_array(json_object('primary', json('true'), 'type', 'work',
                                          'value', 'scale-user-' || i || '@bench.example')),
         'externalId', 'scale-ext-' || i,
         'name', json_object('familyName', 'User ' || i, 'formatted', 'Scale User ' || i,
                             'givenName', 'Scale'),
         'roles', json_array(json_object('primary', json('false'),
                             'type', 'WindowsAzureActiveDirectoryRole', 'value', 'Buyer')),
         'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
           json_object('department', 'Bench', 'employeeNumber', '' || i),
         'userName', 'scale-user-' || i || '@bench.example'),
       1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
FROM n;
INSERT INTO user_emails (user_seq, workspace, email_lower)
  SELECT seq, workspace, user_name_lower FROM users WHERE workspace = 'acme';
COMMIT;
SQL
}

start_all() {
  mkdir -p "$RUN/data-core" "$RUN/data-s" "$RUN/data-l" "$RUN/data-st"
  bulk_load "$RUN/data-s" "$SCALE_SMALL"
  bulk_load "$RUN/data-l" "$SCALE_LARGE"
  start_server app nginx -e "$RUN/app-start.log" -p "$RUN" -c "$RUN/nginx-app.conf"
  start_server core "$BIN" core --listen "127.0.0.1:$P_CORE" --data "$RUN/data-core" \
    --seed "$RUN/seed.yaml"
  start_server core_s "$BIN" core --listen "127.0.0.1:$P_CORE_S" --data "$RUN/data-s" \
    --seed "$RUN/seed.yaml"
  start_server core_l "$BIN" core --listen "127.0.0.1:$P_CORE_L" --data "$RUN/data-l" \
    --seed "$RUN/seed.yaml"
  # The stampede core logs every request at debug level: one line per introspection.
  RUST_LOG=info,authsidecar_local_core=debug start_server core_st "$BIN" core \
    --listen "127.0.0.1:$P_CORE_ST" --data "$RUN/data-st" --seed "$RUN/seed.yaml"
  wait_port "$P_APP" app
  wait_port "$P_CORE" core; wait_port "$P_CORE_S" core_s
  wait_port "$P_CORE_L" core_l; wait_port "$P_CORE_ST" core_st
  start_server peer nginx -e "$RUN/peer-start.log" -p "$RUN" -c "$RUN/nginx-peer.conf"
  start_server sidecar "$BIN" run --config "$RUN/sidecar.yaml"
  start_server sidecar_s "$BIN" run --config "$RUN/sidecar-s.yaml"
  start_server sidecar_l "$BIN" run --config "$RUN/sidecar-l.yaml"
  start_server sidecar_st "$BIN" run --config "$RUN/sidecar-st.yaml"
  if [ -n "$SCIM2_SERVER" ]; then
    start_server scim2 "$SCIM2_SERVER" --hostname 127.0.0.1 --port "$P_SCIM2" \
      --bearer-token "$ADMIN_TOKEN"
  fi
  wait_port "$P_NG_PROXY" peer; wait_port "$P_NG_AUTH" peer
  wait_port "$P_NG_CACHE" peer; wait_port "$P_NG_STAMPEDE" peer
  wait_port "$P_SIDECAR" sidecar; wait_port "$P_SIDECAR_S" sidecar_s
  wait_port "$P_SIDECAR_L" sidecar_l; wait_port "$P_SIDECAR_ST" sidecar_st
  [ -z "$SCIM2_SERVER" ] || wait_port "$P_SCIM2" scim2
  ALL_GROUPS=(app peer core sidecar core_s sidecar_s core_l sidecar_l core_st sidecar_st)
  [ -z "$SCIM2_SERVER" ] || ALL_GROUPS+=(scim2)
}

# --- sanity: every check must hold, or nothing is measured.
code_of() { curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
body_of() { curl -sk --max-time 5 "$@"; }

expect_code() {           # WANT WHAT CURL-ARGS...
  local want=$1 what=$2 got; shift 2
  got=$(code_of "$@")
  [ "$got" = "$want" ] || die "sanity: $what answered $got, expected $want" 4
}

sanity() {
  local auth="Authorization: Bearer $ADMIN_TOKEN" bad='Authorization: Bearer not-a-token' n
  expect_code 200 "app" "http://127.0.0.1:$P_APP/"
  expect_code 200 "core introspection" -H "$auth" "http://127.0.0.1:$P_CORE/internal/v1/introspect"
  expect_code 401 "core introspection (bad token)" -H "$bad" \
    "http://127.0.0.1:$P_CORE/internal/v1/introspect"
  expect_code 200 "nginx TLS proxy" "https://127.0.0.1:$P_NG_PROXY$PUBLIC_PATH"
  expect_code 200 "nginx auth_request" -H "$auth" "https://127.0.0.1:$P_NG_AUTH/"
  expect_code 401 "nginx auth_request (bad token)" -H "$bad" "https://127.0.0.1:$P_NG_AUTH/"
  expect_code 200 "nginx auth_request+cache" -H "$auth" "https://127.0.0.1:$P_NG_CACHE/"
  expect_code 200 "sidecar SCIM" -H "$auth" \
    "https://127.0.0.1:$P_SIDECAR$SCIM_BASE/ServiceProviderConfig"
  expect_code 401 "sidecar SCIM (bad token)" -H "$bad" \
    "https://127.0.0.1:$P_SIDECAR$SCIM_BASE/ServiceProviderConfig"
  for pair in "s $P_SIDECAR_S $SCALE_SMALL" "l $P_SIDECAR_L $SCALE_LARGE"; do
    set -- $pair
    for f in "userName%20eq%20%22scale-user-$3%40bench.example%22" \
      "externalId%20eq%20%22scale-ext-$3%22"; do
      n=$(body_of -H "$auth" "https://127.0.0.1:$2$SCIM_BASE/Users?filter=$f" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("totalResults"))')
      [ "$n" = 1 ] || die "sanity: scale lookup on sidecar_$1 found $n users, expected 1" 4
    done
  done
  if [ -n "$SCIM2_SERVER" ]; then
    expect_code 200 "scim2-server" -H "$auth" "http://127.0.0.1:$P_SCIM2/Users"
  fi
  detect_passthrough
  IDLE_RSS_KB=$(status_kb sidecar VmRSS)
}

# Passthrough (app.base_url, app.public_paths) is being built: probe it rather than assume.
detect_passthrough() {
  local auth="Authorization: Bearer $ADMIN_TOKEN" help_has_app=no
  "$BIN" dev --help 2>/dev/null | grep -q -- '--app' && help_has_app=yes
  PASSTHROUGH=0
  PASSTHROUGH_WHY="the build refuses the app section"
  if [ "${BENCH_NO_PASSTHROUGH:-0}" = 1 ]; then
    PASSTHROUGH_WHY="BENCH_NO_PASSTHROUGH=1"
  elif [ "$APP_SECTION" = 1 ]; then
    local warm public anon
    warm=$(body_of -H "$auth" "https://127.0.0.1:$P_SIDECAR/")
    public=$(body_of "https://127.0.0.1:$P_SIDECAR$PUBLIC_PATH")
    anon=$(code_of "https://127.0.0.1:$P_SIDECAR/")
    if [ "$warm" = ok ] && [ "$public" = ok ] && [ "$anon" = 401 ]; then
      PASSTHROUGH=1 PASSTHROUGH_WHY=""
    else
      PASSTHROUGH_WHY="GET / with a valid token, or $PUBLIC_PATH without one, did not reach the app"
    fi
  fi
  say "passthrough: $([ "$PASSTHROUGH" = 1 ] && echo available || echo "not available" \
    "($PASSTHROUGH_WHY)"); 'authsidecar dev --help' mentions --app: $help_has_app"
}
