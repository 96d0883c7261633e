// The load of the rolling-restart test (scripts/cluster-restart-test.sh): shoppers reading
// product pages and customers placing and paying orders through the JSON API, all through
// the load balancer, until DIR/stop appears (or MAX_SECONDS pass). Then it reads every order
// it placed back through the API and prints one JSON line of figures.
//
//   node scripts/cluster-restart-load.mjs URL DIR [MAX_SECONDS]
//
// Every request must get the answer the shop gives when all is well: a failed connection,
// a 5xx or any other unexpected status counts as a failure. Nothing is retried, except as
// browsers do: a GET, or a request with an Idempotency-Key, that nginx never read because it
// closed the keep-alive connection first (see `exchange`) is sent again, and counted as
// resent. Setting up
// tops the stock of the variants it buys up to STOCK_FLOOR (as the demo admin,
// DEMO_ADMIN_PASSWORD) and signs in BUYERS customers (signing them up the first time); then
// it creates DIR/started. The ids of the orders placed go to DIR/orders.txt, one a line, for
// the test to look up in the database. Exits 1 on any failure.
import { existsSync, writeFileSync } from "node:fs";
import http from "node:http";

const [base, dir, maxArg] = process.argv.slice(2);
if (!base || !dir) {
  console.error("usage: node scripts/cluster-restart-load.mjs URL DIR [MAX_SECONDS]");
  process.exit(2);
}
const stopFile = `${dir}/stop`;
const maxSeconds = Number(maxArg ?? 600);
const api = `${base}/api/v1`;
const BROWSERS = Number(process.env.BROWSERS ?? 4);
const BUYERS = Number(process.env.BUYERS ?? 4);
const STOCK_FLOOR = 5000;
const PASSWORD = "restart-test-password-1";
const adminPassword = process.env.DEMO_ADMIN_PASSWORD ?? "demo-admin-password";
const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

// --- requests, counted ------------------------------------------------------------------------

// Keep-alive connections to nginx, as a browser keeps them.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Whether a request may be sent twice: a GET, or a request carrying an Idempotency-Key (the
 * shop answers a repeat with the first answer and does nothing again).
 */
function repeatable(method, headers) {
  return method === "GET" || Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key");
}

/**
 * One HTTP exchange: its status, headers and body (as sent: not decompressed).
 *
 * nginx closes the idle keep-alive connections its old workers hold when it reloads, which a
 * rolling restart makes it do; a request sent on one at that moment fails before any answer
 * (the server never read it, RFC 9112, 9.3.1). A repeatable request that fails so is sent
 * once more on a new connection, as browsers do, and counted as resent. Any other request
 * (adding to a cart, paying) goes on a new connection of its own, which that cannot
 * happen to, and is never sent twice: any failure of it counts.
 */
function exchange(method, url, headers, body, fresh = false) {
  const reuse = !fresh && repeatable(method, headers);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method, headers, agent: reuse ? agent : false }, (res) => {
      answered = true;
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
        text: Buffer.concat(chunks).toString(), resent: fresh }));
      res.on("error", reject);
    });
    req.on("error", (e) => {
      if (reuse && !answered && req.reusedSocket && ["ECONNRESET", "EPIPE"].includes(e.code)) {
        exchange(method, url, headers, body, true).then(resolve, reject);
      } else {
        reject(e);
      }
    });
    req.end(body);
  });
}

const tally = { requests: 0, failures: 0, resent: 0, byKind: {}, slowestMs: 0, slowest: "" };
const failures = [];

/** One request; counts it, and records a failure unless the status is one of `expect`. */
async function call(kind, url, init, expect) {
  const started = performance.now();
  tally.requests += 1;
  const k = (tally.byKind[kind] ??= { requests: 0, failures: 0 });
  k.requests += 1;
  let status = 0;
  let text = "";
  try {
    const res = await exchange(init.method ?? "GET", url,
      { "user-agent": userAgent, ...init.headers }, init.body);
    ({ status, text } = res);
    if (res.resent) tally.resent += 1;
  } catch (e) {
    text = `${e.code ?? ""} ${e.message}`;
  }
  const ms = performance.now() - started;
  if (ms > tally.slowestMs) {
    tally.slowestMs = ms;
    tally.slowest = `${kind} ${status}`;
  }
  const ok = expect.includes(status);
  if (!ok) {
    tally.failures += 1;
    k.failures += 1;
    if (failures.length < 20) {
      failures.push({ at: new Date().toISOString(), kind, status, detail: text.slice(0, 300) });
    }
  }
  return { ok, status, text };
}

const json = (body, token, extra = {}) => ({
  method: "POST",
  headers: {
    "content-type": "application/json",
    accept: "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  },
  body: JSON.stringify(body),
});
const bearer = (token) => ({ headers: { authorization: `Bearer ${token}`, accept: "application/json" } });

/** A set-up step that must work: its parsed JSON answer, or the test stops here. */
async function must(kind, url, init, expect) {
  const r = await call(kind, url, init, expect);
  if (!r.ok) throw new Error(`set-up failed: ${kind}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.text ? JSON.parse(r.text) : null;
}

// --- set-up -----------------------------------------------------------------------------------

/** Products in stock: their slugs for the page views, and one variant of each to buy. */
async function catalog() {
  const first = await must("setup", `${api}/products?in_stock=true`, {}, [200]);
  const products = [...first.data];
  for (let page = 2; page <= Math.min(first.pagination.pages, 3); page++) {
    products.push(...(await must("setup", `${api}/products?in_stock=true&page=${page}`, {}, [200])).data);
  }
  if (products.length < 4) throw new Error("set-up failed: fewer than 4 products in stock");
  return products;
}

/** Tops up the stock of the variants to buy so no order is refused as sold out. */
async function stockUp(products) {
  const admin = await must("setup", `${api}/auth/token`,
    json({ email: "admin@example.com", password: adminPassword }), [200]);
  const variants = [];
  for (const p of products.slice(0, 8)) {
    const detail = await must("setup", `${api}/admin/products/${p.id}`, bearer(admin.access_token), [200]);
    const v = detail.variants.find((v) => !v.archived);
    if (!v) continue;
    if (v.available < STOCK_FLOOR) {
      await must("setup", `${api}/admin/variants/${v.id}/stock`,
        json({ delta: STOCK_FLOOR - v.available, reason: "rolling-restart test" }, admin.access_token), [200]);
    }
    variants.push(v.id);
  }
  return variants;
}

/** A customer's access token: signed in, or signed up first on the first run. */
async function customer(i) {
  const email = `restart-test-${i}@example.com`;
  const signIn = () => call("setup", `${api}/auth/token`, json({ email, password: PASSWORD }), [200, 401]);
  let r = await signIn();
  if (r.status === 401) {
    await must("setup", `${api}/auth/register`,
      json({ email, password: PASSWORD, display_name: `Restart Test ${i}` }), [202]);
    r = await signIn();
  }
  if (r.status !== 200) throw new Error(`set-up failed: cannot sign in ${email}: ${r.status}`);
  const token = JSON.parse(r.text).access_token;
  // A cart left over from an interrupted run would join the first order.
  await must("setup", `${api}/cart`, { method: "DELETE", headers: bearer(token).headers }, [200, 204]);
  return token;
}

// --- the load ---------------------------------------------------------------------------------

const deadline = performance.now() + maxSeconds * 1000;
const running = () => !existsSync(stopFile) && performance.now() < deadline;

/** A shopper reading product pages (HTML, as a browser asks) and a product's JSON. */
async function browser(slugs, n) {
  let i = n;
  while (running()) {
    const slug = slugs[i++ % slugs.length];
    await call("product page", `${base}/p/${slug}`,
      { headers: { accept: "text/html", "accept-encoding": "gzip, deflate, br" } }, [200]);
    if (i % 4 === 0) await call("product JSON", `${api}/products/${slug}`, {}, [200]);
  }
}

/** A customer ordering again and again: add to cart, place the order, pay on the offline page. */
async function buyer(token, variants, method, n, placed) {
  let i = n;
  while (running()) {
    const variant = variants[i++ % variants.length];
    const add = await call("add to cart", `${api}/cart/items`, json({ variant_id: variant, quantity: 1 }, token), [200]);
    if (!add.ok) continue;
    const place = await call("place order", `${api}/checkout`, json({
      shipping_address: {
        full_name: `Restart Test ${n}`, line1: "1 Load Street", city: "Berlin",
        postal_code: "10115", country: "DE",
      },
      shipping_method_id: method,
    }, token, { "idempotency-key": crypto.randomUUID() }), [201]);
    if (!place.ok) continue;
    const { order, payment_url: paymentUrl } = JSON.parse(place.text);
    placed.push({ id: order.id, token });
    // "Pay" on the offline provider's page, posted as its hydrated page does (the order is
    // paid when the answer comes; the browser is then sent to the confirmation).
    const session = new URL(paymentUrl).pathname.split("/").pop();
    await call("pay", `${base}/api/pay/offline/choose`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded", accept: "application/json",
        origin: base,
      },
      body: new URLSearchParams({ session, choice: "pay" }).toString(),
    }, [200]);
  }
}

async function main() {
  const products = await catalog();
  const variants = await stockUp(products);
  const methods = await must("setup", `${api}/checkout/shipping-methods?country=DE`, {}, [200]);
  const method = methods.data[0].id;
  const tokens = [];
  for (let i = 1; i <= BUYERS; i++) tokens.push(await customer(i));
  const slugs = products.map((p) => p.slug);
  const setup = { ...tally };
  Object.assign(tally, { requests: 0, failures: 0, resent: 0, byKind: {}, slowestMs: 0, slowest: "" });
  writeFileSync(`${dir}/started`, "");

  const placed = [];
  const started = performance.now();
  await Promise.all([
    ...Array.from({ length: BROWSERS }, (_, n) => browser(slugs, n * 7)),
    ...tokens.map((t, n) => buyer(t, variants, method, n, placed)),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const load = { ...tally, byKind: { ...tally.byKind } };

  // Every order placed must be there, paid, for its customer.
  let missing = 0;
  let unpaid = 0;
  for (const o of placed) {
    const r = await call("read order", `${api}/orders/${o.id}`, bearer(o.token), [200]);
    if (!r.ok) missing += 1;
    else if (JSON.parse(r.text).status !== "paid") unpaid += 1;
  }
  writeFileSync(`${dir}/orders.txt`, placed.map((o) => o.id).join("\n") + (placed.length ? "\n" : ""));
  const result = {
    seconds: Number(seconds.toFixed(1)),
    requests: load.requests,
    requests_per_second: Number((load.requests / seconds).toFixed(1)),
    failures: load.failures,
    resent: load.resent,
    by_kind: load.byKind,
    slowest_ms: Math.round(load.slowestMs),
    slowest: load.slowest,
    orders: placed.length,
    orders_missing: missing,
    orders_unpaid: unpaid,
    setup_requests: setup.requests,
    failed: failures,
  };
  console.log(JSON.stringify(result));
  process.exit(load.failures === 0 && missing === 0 && unpaid === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e.message);
  if (failures.length) console.error(JSON.stringify(failures, null, 1));
  process.exit(1);
});
