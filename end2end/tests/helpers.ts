import { expect, type Page, type TestInfo } from '@playwright/test';

// Steps every spec shares. Each spec runs twice: in the `js-on` project and in `js-off`.

/** Whether this run has JavaScript on. */
export function jsOn(info: TestInfo): boolean {
  return info.project.use.javaScriptEnabled !== false;
}

/**
 * With JavaScript on, waits until the page has hydrated (the layout marks `main`). A fresh
 * browser context fetches the debug build's large wasm, compressed on the fly: on a busy
 * 2-core machine the first hydration can take well over the default 10 s.
 */
export async function ready(page: Page, js: boolean) {
  if (js) await expect(page.locator('main[data-hydrated=true]')).toBeVisible({ timeout: 30_000 });
}

/** Marks the document: a full page load loses the mark, an in-place update keeps it. */
export async function mark(page: Page) {
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
}

/** Whether the mark set by `mark` is still there (the page was not reloaded). */
export async function marked(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __marker?: number }).__marker === 1);
}
