# Shared helpers for the project's scripts. Source it; do not run it.

# One Cargo target directory outside the checkout, so a fresh clone (CI) reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
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
