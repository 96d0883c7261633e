#!/usr/bin/env bash
# Builds the release site and reports the figures we track: wasm bundle size (raw and
# brotli) and the server's cold start on SQLite (process start to /ready answering 200),
# as the median of several starts against a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

scripts/bootstrap.sh
step "cargo leptos build --release"
build_start=$(date +%s)
cargo leptos build --release
echo "release build: $(( $(date +%s) - build_start )) s"

wasm=$(ls target/site/pkg/*.wasm | head -1)
js=$(ls target/site/pkg/*.js | head -1)
css=$(ls target/site/pkg/*.css | head -1)
node - "$wasm" "$js" "$css" <<'JS'
const fs = require('fs'), zlib = require('zlib');
for (const f of process.argv.slice(2)) {
  const raw = fs.readFileSync(f);
  const br = zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  const gz = zlib.gzipSync(raw, { level: 9 });
  console.log(`${f.split('/').pop()}: raw ${(raw.length / 1024).toFixed(1)} KiB, brotli ${(br.length / 1024).toFixed(1)} KiB, gzip ${(gz.length / 1024).toFixed(1)} KiB`);
}
JS

step "cold start (5 runs, fresh SQLite database each)"
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# A raw HTTP request through bash's /dev/tcp: polling costs microseconds, not a process.
ready() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  read -r line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == *" 200 "* ]]
}
times=()
for i in 1 2 3 4 5; do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  DATABASE_URL="sqlite://$dir/shop.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    "$CARGO_TARGET_DIR/release/shop" & pid=$!
  until ready "$port"; do sleep 0.005; done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "cold start to /ready (ms, includes creating and migrating the database): ${times[*]}; median ${sorted[2]}"
