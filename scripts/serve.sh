#!/usr/bin/env bash
# Installs what is missing, builds the shop, loads demo data into an embedded SQLite
# database under data/, and serves it at http://127.0.0.1:3000 (Ctrl-C stops it).
#
#   scripts/serve.sh             # debug build (fast to build; shares the test suite's build)
#   scripts/serve.sh --release   # optimised build, as in production
#
# Any variable from .env.example can be set in the environment or in a .env file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=debug
build_flags=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  build_flags=(--release)
fi

if [ -f .env ]; then
  step "reading .env"
  set -a; source .env; set +a
fi
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export SHOP_DATA_DIR="${SHOP_DATA_DIR:-data}"

step "checking tools (installs only what is missing)"
scripts/bootstrap.sh

step "building the shop ($profile; the first build takes several minutes)"
cargo leptos build "${build_flags[@]}"
bin="$CARGO_TARGET_DIR/$profile/shop"

step "preparing the database and demo data"
"$bin" seed --if-empty

step "starting the server"
"$bin" serve &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM EXIT

url="http://${LEPTOS_SITE_ADDR}"
for _ in $(seq 1 100); do
  if curl -fsS "$url/health" >/dev/null 2>&1 || node -e "fetch('$url/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))" 2>/dev/null; then
    break
  fi
  kill -0 "$server" 2>/dev/null || die "the server stopped; see the log above"
  sleep 0.2
done

cat <<MSG

  The shop is ready:   $url
  Admin login:         admin@example.com / ${DEMO_ADMIN_PASSWORD:-demo-admin-password}
  Mail sent by the shop is written to ${SHOP_DATA_DIR}/mail/ as .eml files.
  Press Ctrl-C to stop.

MSG
wait "$server"
