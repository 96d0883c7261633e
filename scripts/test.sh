#!/usr/bin/env bash
# Runs the whole test suite: formatting, clippy (server and wasm), unit and integration
# tests on SQLite and on a throwaway PostgreSQL, then the Playwright end-to-end suite in
# Chromium against the scaled-out shop (two instances and two workers behind nginx), a
# rolling restart under load, a worker killed while it holds the periodic jobs, and the soak
# test. Installs whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started=$(date +%s)
work=$(mktemp -d /tmp/shop-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "${PGDATA_DIR:-}" ]; then as_pg "$(pg_bin_dir)/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -n "${CLUSTER_DIR:-}" ]; then scripts/cluster.sh --stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

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

# The end-to-end suite runs against the shop as production runs it: two web instances and a
# worker on PostgreSQL behind nginx (scripts/cluster.sh), so every journey also crosses
# instances (a page from one, the next form post on the other).
step "the scaled-out shop: PostgreSQL, two instances, a worker, nginx (scripts/cluster.sh)"
export CLUSTER_DIR="$work/cluster"
(
  # Playwright's browsers all come from 127.0.0.1: no per-address limits. Two workers with
  # short job leases, whose log says when a process takes a job, for the jobs test below.
  export SHOP_NAME="Harbour Street" RATE_LIMIT_PER_MINUTE=0 API_RATE_LIMIT_PER_MINUTE=0 \
    CLUSTER_WORKERS=2 JOB_LEASE_SECS=5 LOG_FORMAT=json \
    RUST_LOG="${RUST_LOG:-warn},shop_core::leases=info"
  scripts/cluster.sh
)
# shellcheck source=/dev/null disable=SC2154 # cluster.env sets url
E2E_BASE_URL=$(source "$CLUSTER_DIR/cluster.env" && echo "$url")
export E2E_BASE_URL E2E_MAIL_DIR="$CLUSTER_DIR/data/mail"

step "end-to-end tests in Chromium through nginx (JavaScript on and off)"
npx playwright test --config end2end/playwright.config.ts

step "rolling restart under load: each instance stopped and started, no request or order lost"
scripts/cluster-restart-test.sh

step "periodic jobs: one holder each; kill -9 of the holder hands them over"
scripts/cluster-jobs-test.sh
scripts/cluster.sh --stop
unset CLUSTER_DIR

step "soak test on the release build (60 s)"
scripts/bench/soak.sh 60

echo
echo "All checks passed in $(( $(date +%s) - started )) s."
