# Shared helpers for the project's scripts. Source it; do not run it.

# One Cargo target directory outside the checkout, so a fresh clone (CI) reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
# CI builds each commit once: incremental data would only pile up in the shared folder.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

# The shared target folder keeps every build of our own crates; drop those not used for two
# days (dependencies stay) so it does not grow without end.
prune_target() {
  [ -d "$CARGO_TARGET_DIR" ] || return 0
  find "$CARGO_TARGET_DIR"/*/deps "$CARGO_TARGET_DIR"/*/*/deps -maxdepth 1 -type f -atime +2 \
    \( -name 'shop-*' -o -name 'it-*' -o -name 'app-*' -o -name 'catalog-*' -o -name 'auth-*' \
       -o -name 'shop_core-*' -o -name 'notifications-*' -o -name 'lib*shop*' -o -name 'libapp-*' \
       -o -name 'libcatalog-*' -o -name 'libauth-*' -o -name 'libnotifications-*' \
       -o -name 'cart-*' -o -name 'libcart-*' -o -name 'checkout-*' -o -name 'libcheckout-*' \) \
    -delete 2>/dev/null || true
  find "$CARGO_TARGET_DIR"/*/incremental -mindepth 1 -maxdepth 1 -atime +2 -exec rm -rf {} + 2>/dev/null || true
  # Object files a link that failed (a full disk) left behind.
  find "$CARGO_TARGET_DIR"/*/deps -maxdepth 1 -name '*.rcgu.o' -mmin +60 -delete 2>/dev/null || true
  # A day of work rebuilds our own crates dozens of times (about 1 GB each for the test and
  # server binaries): keep the three newest of each kind.
  local dir crate kind
  for dir in "$CARGO_TARGET_DIR"/*/deps "$CARGO_TARGET_DIR"/*/*/deps; do
    [ -d "$dir" ] || continue
    for crate in shop it app catalog auth cart checkout shop_core shop_testkit notifications loadgen frontend; do
      for kind in "$crate-????????????????" "lib$crate-*.rlib" "lib$crate-*.rmeta" "$crate-*.d"; do
        # shellcheck disable=SC2012
        { ls -t "$dir"/$kind 2>/dev/null || true; } | tail -n +4 | xargs -r rm -f
      done
    done
  done
}
# Pick dependency versions this rustc can build.
export CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback
# Project-local npm tools (tailwindcss, wasm-opt, playwright) and cargo-installed tools.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos only downloads tools it cannot find; these are found on PATH.
export LEPTOS_TAILWIND_VERSION="${LEPTOS_TAILWIND_VERSION:-v4}"

step() { printf '\n\033[1;34m==>\033[0m \033[1m%s\033[0m\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Prints the directory holding PostgreSQL's server binaries (initdb, pg_ctl), or fails.
pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Prints a TCP port that is free on the loopback address right now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# PostgreSQL refuses to run as root; run its tools as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
