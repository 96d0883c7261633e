#!/usr/bin/env bash
# Installs whatever this project needs and is missing, and nothing else.
# Idempotent: on a machine where everything is present it finishes in seconds.
# Everything comes from the package registries (crates.io, npm, Debian apt).
#
#   scripts/bootstrap.sh            # tools for building and serving
#   scripts/bootstrap.sh --test     # plus what the test suite needs (chromium, postgresql, nginx)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

CARGO_LEPTOS_VERSION=0.3.10

# --- Rust: wasm target -------------------------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos (pinned; newer versions need a newer rustc) ----------------
if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  step "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 12 minutes on 2 cores, once)"
  # Its own release profile asks for fat LTO, which is very slow to build and buys nothing here.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
fi

# --- wasm-bindgen CLI: must equal the wasm-bindgen version in Cargo.lock -----
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wb_version" ]; then
  die "could not read the wasm-bindgen version from Cargo.lock"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb_version}\$"; then
  step "installing wasm-bindgen-cli ${wb_version} (about 3 minutes, once)"
  # Without --locked: one of its locked dependencies is no longer on the registry.
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
    cargo install wasm-bindgen-cli --version "${wb_version}" --force
fi

# --- apt packages (tests only) ----------------------------------------------
if [ "$want_test" = 1 ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  pg_bin_dir >/dev/null 2>&1 || missing+=(postgresql)
  # The load balancer of scripts/cluster.sh (the scaled-out shop and its rolling-restart
  # test), and the client it checks the processes' health with.
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing apt packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      # Debian's package starts a system nginx on port 80 and enables it at boot. Nothing here
      # uses it (scripts/cluster.sh runs its own, unprivileged): stop and disable the one
      # just installed.
      if [ -d /run/systemd/system ]; then
        as_root systemctl disable --now nginx >/dev/null 2>&1 || true
      else
        as_root service nginx stop >/dev/null 2>&1 || true
        as_root update-rc.d nginx disable >/dev/null 2>&1 || true
      fi
    fi
  fi

  # A local S3-compatible server for the object-storage tests: PyPI's moto, in a virtual
  # environment of its own under ~/.cache (the tests look there and on PATH).
  moto_venv="$HOME/.cache/shop-tools/moto"
  if ! command -v moto_server >/dev/null 2>&1 && [ ! -x "$moto_venv/bin/moto_server" ]; then
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      step "installing apt packages: python3-venv"
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-venv
    fi
    step "installing moto[server] 5.2.1 (a local S3 server for the tests) into $moto_venv"
    rm -rf "$moto_venv"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
  fi
fi

# --- npm: Tailwind CLI, wasm-opt (binaryen), Playwright ----------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages (tailwindcss, binaryen, playwright, swagger-ui-dist, openapi-schema-validator)"
  # `npm install --no-save` installs exactly the locked versions. `npm ci` is not
  # used: npm 11 rejects its own lock file when the registry lacks some of
  # Tailwind's optional per-platform packages ("Missing: ... from lock file").
  # SCARF_ANALYTICS=false: swagger-ui-dist's install hook would report the install.
  SCARF_ANALYTICS=false PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund --loglevel=error
fi
# The API reference page's Swagger UI (npm swagger-ui-dist), served with the site's assets
# (public/ is copied into the built site), so the page needs nothing from another site.
for f in swagger-ui.css swagger-ui-bundle.js; do
  if [ ! -f "public/api-docs/$f" ] || [ "node_modules/swagger-ui-dist/$f" -nt "public/api-docs/$f" ]; then
    cp "node_modules/swagger-ui-dist/$f" "public/api-docs/$f"
  fi
done
