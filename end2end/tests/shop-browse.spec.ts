import { test, expect, type Page } from '@playwright/test';
import { jsOn, ready } from './helpers';

// Shoppers browsing the demo catalog: department → filter → sort → page → product → variant,
// and search with and without results. Every step works as plain links and forms with
// JavaScript off; with it on, the same steps update the page without a full reload.

/** The number in "24 products". */
async function resultCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('result-count').textContent()) ?? '';
  const n = Number.parseInt(text, 10);
  expect(n, `result count in "${text}"`).toBeGreaterThan(0);
  return n;
}

/** Card prices in display order, in cents ("€1,299.00" → 129900). */
async function cardPrices(page: Page): Promise<number[]> {
  const texts = await page
    .getByTestId('product-grid')
    .getByTestId('product-card')
    .locator('span.font-semibold')
    .allTextContents();
  return texts.map((t) => Number.parseInt(t.replace(/[^0-9]/g, ''), 10));
}

function isAscending(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v >= values[i - 1]);
}

test('browse a department: filter, sort, next page, open a product and choose a variant', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/');
  await ready(page, js);
  await page.getByRole('main').getByRole('link', { name: 'Clothing & Shoes' }).first().click();
  await expect(page).toHaveURL(/\/c\/clothing-and-shoes$/);
  await expect(page.getByTestId('page-title')).toHaveText('Clothing & Shoes');
  await ready(page, js);
  const all = await resultCount(page);
  expect(all).toBeGreaterThan(20);
  // With JavaScript on, a filter or a sort applies as soon as it changes (an island submits
  // the form); without it, its button does.
  // Filter: in stock only. The facet's count is what the listing then shows.
  const inStock = page.getByRole('checkbox', { name: /In stock only/ });
  const label = (await page.locator('label', { has: inStock }).textContent()) ?? '';
  const expected = Number.parseInt(label.match(/\((\d+)\)/)?.[1] ?? '', 10);
  expect(expected).toBeLessThan(all);
  await inStock.check();
  if (!js) await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/stock=1/);
  await expect(page.getByTestId('result-count')).toHaveText(`${expected} products`);
  await ready(page, js);

  // Sort: price, low to high.
  await page.getByLabel('Sort by').selectOption({ label: 'Price: low to high' });
  if (!js) await page.getByRole('button', { name: 'Sort', exact: true }).click();
  await expect(page).toHaveURL(/sort=price-asc/);
  await expect(page).toHaveURL(/stock=1/);
  // With JavaScript on, the address changes before the new listing arrives: wait for it.
  await expect.poll(async () => isAscending(await cardPrices(page))).toBe(true);
  const firstPage = await cardPrices(page);
  expect(firstPage).toHaveLength(20);

  // Next page: the filter and the sort are kept, the order continues.
  await page.getByTestId('pagination').getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page).toHaveURL(/sort=price-asc/);
  await expect(page).toHaveURL(/stock=1/);
  await expect(page.getByTestId('product-grid').getByTestId('product-card')).toHaveCount(expected - 20);
  const secondPage = await cardPrices(page);
  expect(isAscending(secondPage)).toBe(true);
  expect(secondPage[0]).toBeGreaterThanOrEqual(firstPage[firstPage.length - 1]);

  // Into a sub-department and a product with size options.
  await page.goto('/c/t-shirts');
  await ready(page, js);
  await page.getByRole('link', { name: 'Fernhill Organic Cotton T-Shirt', exact: true }).click();
  await expect(page.getByTestId('product-name')).toHaveText('Fernhill Organic Cotton T-Shirt');
  await ready(page, js);
  await expect(page.getByTestId('sku')).toHaveText('CS90-TEE-S');

  const choose = async (sku: string) => {
    await page.locator(`label[for="variant-${sku}"]`).click();
    if (!js) await page.getByRole('button', { name: 'Show this option' }).click();
    await expect(page).toHaveURL(new RegExp(`variant=${sku}`));
    await expect(page.getByTestId('sku')).toHaveText(sku);
    await ready(page, js);
  };
  await choose('CS90-TEE-XL');
  await expect(page.getByTestId('price')).toContainText('21.99');
  await expect(page.getByTestId('stock')).toHaveText('In stock');
  await choose('CS90-TEE-M');
  await expect(page.getByTestId('price')).toContainText('19.99');
  await expect(page.getByTestId('stock')).toContainText('3 left');
  await choose('CS90-TEE-L');
  await expect(page.getByTestId('stock')).toHaveText('Out of stock');
  await expect(page.getByTestId('add-to-cart').getByRole('button')).toBeDisabled();
});

test('a product page carries breadcrumbs, structured data and a canonical address', async ({ page }) => {
  await page.goto('/p/nordhavn-cast-iron-pan?variant=HK90-PAN-28');
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' })).toContainText('Home & Kitchen');
  const jsonLd = JSON.parse(
    (await page.locator('script[type="application/ld+json"]').first().textContent()) ?? '{}',
  );
  expect(jsonLd['@type']).toBe('Product');
  expect(jsonLd.name).toBe('Nordhavn Cast Iron Pan');
  await expect(page.locator('link[rel=canonical]')).toHaveAttribute('href', /\/p\/nordhavn-cast-iron-pan$/);
  const missing = await page.goto('/p/no-such-product');
  expect(missing?.status()).toBe(404);
});

test('search puts the exact name first', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/');
  await ready(page, js);
  await page.getByRole('searchbox', { name: /search/i }).fill('Nordhavn Cast Iron Pan');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/search\?q=Nordhavn\+Cast\+Iron\+Pan/);
  expect(await resultCount(page)).toBeGreaterThanOrEqual(1);
  const first = page.getByTestId('product-grid').getByTestId('product-card').first();
  await expect(first.getByRole('heading').getByRole('link')).toHaveText('Nordhavn Cast Iron Pan');
});

test('a search without results says so and offers a way on', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/');
  await ready(page, js);
  await page.getByRole('searchbox', { name: /search/i }).fill('zqxvy jacket');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const none = page.getByTestId('no-results');
  await expect(none).toContainText('Nothing matched “zqxvy jacket”.');
  // A shorter search that does find something, and the departments.
  const shorter = page.getByTestId('search-suggestions').getByRole('link').first();
  await expect(shorter).toBeVisible();
  await expect(none.getByRole('link', { name: 'Clothing & Shoes' })).toBeVisible();
  await shorter.click();
  await expect(page).toHaveURL(/\/search\?q=/);
  expect(await resultCount(page)).toBeGreaterThan(0);
});
