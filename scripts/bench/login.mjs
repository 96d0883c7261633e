// Sign-in latency against a running shop: registers one account, then signs in N times
// with C requests in flight and prints requests/s and latency percentiles. The cost is
// dominated by argon2id (19 MiB, 2 passes) on the server's blocking pool.
//
//   node scripts/bench/login.mjs [base-url] [requests] [concurrency]
//
// Run it against a release build (scripts/serve.sh --release) on loopback only.
const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const total = Number(process.argv[3] ?? 200);
const concurrency = Number(process.argv[4] ?? 1);
if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(base)) {
  console.error('refusing to load anything but a loopback address');
  process.exit(2);
}
const email = `bench-${Date.now()}@example.com`;
const password = 'benchmark passphrase 2026';
const headers = { origin: base, 'sec-fetch-site': 'same-origin', accept: 'application/json' };

async function call(endpoint, form) {
  const res = await fetch(`${base}/api/${endpoint}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  return res.status;
}

const created = await call('account/register', { display_name: 'Bench', email, password });
if (created !== 200) {
  console.error(`register answered ${created}`);
  process.exit(1);
}
// Warm up.
for (let i = 0; i < 5; i++) await call('account/login', { email, password });

const times = [];
let next = 0;
let failures = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const status = await call('account/login', { email, password });
      times.push(performance.now() - t0);
      if (status !== 200) failures++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)].toFixed(1);
console.log(
  `login: ${total} requests, concurrency ${concurrency}: ${(total / elapsed).toFixed(1)} req/s, ` +
    `p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${times.at(-1).toFixed(1)} ms, ` +
    `${failures} failed`,
);
if (failures > 0) process.exit(1);
