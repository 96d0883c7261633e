import { expect, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

// Steps every spec shares. Each spec runs twice: in the `js-on` project and in `js-off`.

/** Whether this run has JavaScript on. */
export function jsOn(info: TestInfo): boolean {
  return info.project.use.javaScriptEnabled !== false;
}

/** What each page's browser reported: errors, failed requests, error statuses. */
const reports = new WeakMap<Page, string[]>();

/** Starts recording what the page's browser reports, once per page. */
function watch(page: Page): string[] {
  let log = reports.get(page);
  if (log) return log;
  const entries: string[] = [];
  const note = (line: string) => {
    if (entries.length < 50) entries.push(`${new Date().toISOString()} ${line}`);
  };
  page.on('pageerror', (error) => note(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') note(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) => note(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) note(`HTTP ${response.status()}: ${response.url()}`);
    // A page without the page policy (scripts from this origin, its inline ones by hash)
    // cannot hydrate: say which policy it came with.
    if (response.request().resourceType() === 'document' && response.status() === 200 && response.frame() === page.mainFrame()) {
      const csp = response.headers()['content-security-policy'] ?? '(none)';
      if (!csp.includes("script-src 'self' 'sha256-")) note(`page ${response.url()} (HTTP ${response.status()}) came with CSP ${csp}`);
    }
  });
  reports.set(page, entries);
  return entries;
}

/**
 * With JavaScript on, waits until the page is interactive. Pages are rendered on the server
 * and only their islands (`<leptos-island>`) hydrate: a page without one is complete as it
 * loads, and must load no wasm nor script at all; a page with islands is ready once they have
 * hydrated (`main` is marked). A fresh browser context fetches the debug build's wasm: on a
 * busy 2-core machine the first hydration can take well over the default 10 s. When the page
 * does not hydrate, the failure says what the browser saw (recorded from the page's second
 * call on).
 */
export async function ready(page: Page, js: boolean) {
  if (!js) return;
  const log = watch(page);
  await page.waitForLoadState('domcontentloaded');
  const { islands, bootstrap } = await page.evaluate(() => ({
    islands: document.querySelectorAll('leptos-island').length,
    bootstrap: document.querySelectorAll('link[rel=modulepreload], script:not([type="application/ld+json"])').length,
  }));
  if (islands === 0) {
    expect(bootstrap, `${page.url()} has no islands: it loads no script`).toBe(0);
    return;
  }
  try {
    await expect(page.locator('main[data-hydrated=true]')).toBeVisible({ timeout: 30_000 });
  } catch (error) {
    const state = await page
      .evaluate(() => ({
        title: document.title,
        main: document.querySelector('main')?.outerHTML.slice(0, 300) ?? '(no main element)',
        scripts: Array.from(document.scripts, (s) => s.src || '(inline)').join(', '),
      }))
      .catch((e: Error) => ({ title: '?', main: `(page not readable: ${e.message})`, scripts: '' }));
    const seen = [
      `page ${page.url()} did not hydrate; title ${JSON.stringify(state.title)}`,
      `main: ${state.main}`,
      `scripts: ${state.scripts}`,
      ...(log.length ? log : ['(the browser reported nothing)']),
    ].join('\n  ');
    throw new Error(`${(error as Error).message}\n  ${seen}`);
  }
}

/** Marks the document: a full page load loses the mark, an in-place update keeps it. */
export async function mark(page: Page) {
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
}

/** Whether the mark set by `mark` is still there (the page was not reloaded). */
export async function marked(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __marker?: number }).__marker === 1);
}

/** An axe-core scan of `path` (JavaScript on only): no serious or critical violation. */
export async function axeScan(page: Page, path: string, status = 200) {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(status);
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n    ')}`)
    .join('\n');
  expect.soft(bad, `${path}\n${report}`).toEqual([]);
}

/**
 * Signs in as the demo admin from the sign-in page (hydrated first, with JavaScript on: the
 * next page then arrives without a second wasm start on a busy machine) and waits for `next`.
 */
export async function signInAsAdmin(page: Page, js: boolean, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await ready(page, js);
  const main = page.getByRole('main');
  await main.getByLabel('Email address').fill('admin@example.com');
  await main.getByLabel('Password').fill('demo-admin-password');
  await main.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(next.replace(/[/]/g, '\\/')));
  await ready(page, js);
}
