#!/usr/bin/env bash
# Runs the whole test suite: formatting, clippy (server and wasm), unit and integration
# tests on SQLite and on a throwaway PostgreSQL, then the Playwright end-to-end suite in
# Chromium against a real server. Installs whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started=$(date +%s)
work=$(mktemp -d /tmp/shop-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "${PGDATA_DIR:-}" ]; then as_pg "$(pg_bin_dir)/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# PostgreSQL refuses to run as root; run its tools as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin port
  bin=$(pg_bin_dir) || die "PostgreSQL is not installed (scripts/bootstrap.sh --test installs it)"
  port=$(free_port)
  PGDATA_DIR="$work/pg"
  mkdir -p "$PGDATA_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA_DIR"
  as_pg "$bin/initdb" -D "$PGDATA_DIR" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

wait_for() {
  local url=$1 pid=$2
  for _ in $(seq 1 150); do
    node -e "fetch('$url').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || die "the server exited before it was ready"
    sleep 0.2
  done
  die "the server did not become ready at $url"
}

step "checking tools (installs only what is missing)"
scripts/bootstrap.sh --test
prune_target

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy: server side (all targets) and the wasm front end"
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings

step "unit and integration tests on SQLite"
cargo test --workspace --exclude frontend --locked

step "unit and integration tests on PostgreSQL"
start_postgres
cargo test --workspace --exclude frontend --locked

step "building the site (wasm, css, server)"
cargo leptos build

step "end-to-end tests in Chromium (JavaScript on and off)"
port=$(free_port)
export E2E_BASE_URL="http://127.0.0.1:$port"
export E2E_MAIL_DIR="$work/e2e/mail"
(
  export DATABASE_URL="sqlite://$work/e2e/shop.db" SHOP_DATA_DIR="$work/e2e" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site" SHOP_NAME="Harbour Street" \
    RATE_LIMIT_PER_MINUTE=0 \
    RUST_LOG="${RUST_LOG:-warn}"
  "$CARGO_TARGET_DIR/debug/shop" seed >/dev/null
  exec "$CARGO_TARGET_DIR/debug/shop" serve
) &
pids+=($!)
wait_for "$E2E_BASE_URL/ready" "${pids[-1]}"
npx playwright test --config end2end/playwright.config.ts
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done

step "soak test on the release build (60 s)"
scripts/bench/soak.sh 60

echo
echo "All checks passed in $(( $(date +%s) - started )) s."
