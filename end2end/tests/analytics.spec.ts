import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { jsOn, ready, signInAsAdmin } from './helpers';

// The analytics dashboard, end to end, with JavaScript on and off: a shopper's visit is
// counted, an admin opens every view, changes the period (the picker is a plain form) and
// downloads a table as CSV. The demo shop has two months of made-up history, so the
// overview's screenshot shows what a merchant sees.

test('an admin reads every analytics view, changes the period and downloads a table', async ({ browser, page }, info) => {
  test.setTimeout(150_000);
  const js = jsOn(info);
  // A shopper (their own browser) searches for something the shop does not sell.
  const term = `zq${Date.now()}${js ? 'on' : 'off'}`;
  const shopper = await browser.newContext({ javaScriptEnabled: js });
  const shopperPage = await shopper.newPage();
  await shopperPage.goto(`/search?q=${term}`);
  await expect(shopperPage.getByRole('main')).toContainText(/no products|nothing/i);
  await shopper.close();

  await signInAsAdmin(page, js, '/admin/analytics');
  // The overview: headline figures against the period before, and the revenue chart.
  await page.goto('/admin/analytics?range=30d');
  await ready(page, js);
  const figures = page.getByTestId('figures');
  await expect(figures).toContainText('Revenue');
  await expect(figures).toContainText('Conversion');
  await expect(page.getByRole('img', { name: 'Revenue by day' })).toBeVisible();
  await expect(page.locator('#revenue-chart rect').first()).toBeAttached();
  await page.screenshot({ path: info.outputPath(`analytics-overview-${info.project.name}.png`), fullPage: true });

  // The period picker: a preset, then a custom period, each kept in the URL and the tabs.
  await page.getByLabel('Period', { exact: true }).selectOption('7d');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/range=7d/);
  await expect(page.getByTestId('period')).toContainText('compared with');
  await page.getByLabel('Period', { exact: true }).selectOption('custom');
  await page.getByLabel('From (custom)').fill('2026-01-01');
  await page.getByLabel('To (custom)').fill('2026-01-31');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/range=custom&from=2026-01-01&to=2026-01-31/);
  await expect(page.getByTestId('period')).toContainText('1 Jan 2026 – 31 Jan 2026');
  const tabs = page.getByRole('navigation', { name: 'Analytics views' });
  await expect(tabs.getByRole('link', { name: 'Funnel' })).toHaveAttribute('href', /range=custom&from=2026-01-01/);

  // Products, funnel and abandoned carts for the last 30 days.
  await page.goto('/admin/analytics?range=30d');
  await tabs.getByRole('link', { name: 'Products' }).click();
  await expect(page).toHaveURL(/\/admin\/analytics\/products\?range=30d/);
  await expect(page.getByTestId('table-top-views').locator('tbody tr').first()).toBeVisible();
  await expect(page.getByTestId('table-top-views').locator('a[href^="/p/"]').first()).toBeVisible();
  await tabs.getByRole('link', { name: 'Funnel' }).click();
  await expect(page.getByRole('img', { name: 'Funnel' })).toBeVisible();
  await expect(page.getByTestId('table-funnel')).toContainText('Add to cart');
  await tabs.getByRole('link', { name: 'Abandoned carts' }).click();
  await expect(page.getByTestId('figures')).toContainText('Recovery rate');
  await expect(page.getByTestId('table-abandoned-carts').locator('tbody tr').first()).toBeVisible();

  // Searches today: the shopper's search is among those that found nothing (events are
  // written every second).
  await expect(async () => {
    await page.goto('/admin/analytics/searches?range=today');
    await expect(page.getByTestId('table-zero-result-searches')).toContainText(term, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  // (The term can also be among the trending searches: the zero-result table's own link.)
  await expect(
    page.getByTestId('table-zero-result-searches').getByRole('link', { name: term }),
  ).toHaveAttribute('href', `/search?q=${term}`);

  // The table as CSV: a download named after the view, table and period.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('csv-zero-result-searches').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^analytics-searches-zero-result-searches-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  expect(csv.split('\n')[0]).toBe('Search,Found nothing,Searches');
  expect(csv).toContain(`${term},1,1`);
});
