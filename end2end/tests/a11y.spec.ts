import { test, expect, type Page } from '@playwright/test';
import { waitForLink } from './mail';
import { axeScan as scan } from './helpers';

// Accessibility: an axe-core scan of every shop, account and admin page, which must find no
// serious or critical violation. axe runs in the page, so this needs JavaScript; the pages
// are the same server-rendered HTML either way (the js-on run scans them hydrated).
test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'axe-core runs as a script in the page');

/** The href of the first link matching `selector` on `path`. */
async function firstLink(page: Page, path: string, selector: string): Promise<string> {
  await page.goto(path);
  const href = await page.locator(selector).first().getAttribute('href');
  expect(href, `${selector} on ${path}`).toBeTruthy();
  return href as string;
}

async function signIn(page: Page, email: string, password: string, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  const main = page.getByRole('main');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password').fill(password);
  await main.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(next.replace(/[/?]/g, '\\$&')));
}

test('shop pages have no serious accessibility violations', async ({ page }) => {
  test.setTimeout(120_000);
  const product = await firstLink(page, '/c/pans', 'a[href^="/p/"]');
  for (const path of [
    '/',
    '/c/home-and-kitchen',
    '/c/pans',
    '/c/pans?sort=price_asc&in_stock=1',
    product,
    '/search?q=pan',
    '/search?q=zzzz-nothing-here',
    '/cart',
    '/login',
    '/register',
    '/forgot-password',
  ]) {
    await scan(page, path);
  }
  await scan(page, '/no-such-page', 404);
});

test('account pages have no serious accessibility violations', async ({ page }, info) => {
  test.setTimeout(120_000);
  // A fresh customer, registered through the form.
  const email = `a11y-${info.project.name}-${Date.now()}@example.com`;
  await page.goto('/register');
  const main = page.getByRole('main');
  await main.getByLabel('Your name').fill('Ada Access');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password').fill('a long accessible passphrase');
  await main.getByRole('button', { name: /Create account/ }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto(await waitForLink(email, '/verify-email'));
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page).toHaveURL(/\/account/);
  for (const path of ['/account', '/account/profile', '/account/sessions', '/account/addresses', '/account/addresses/new']) {
    await scan(page, path);
  }
});

test('admin pages have no serious accessibility violations', async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, 'admin@example.com', 'demo-admin-password', '/admin');
  const product = await firstLink(page, '/admin/products', 'a[href^="/admin/products/"]:not([href$="/new"])');
  const category = await firstLink(page, '/admin/categories', 'a[href^="/admin/categories/"]');
  const user = await firstLink(page, '/admin/users', 'a[href^="/admin/users/"]');
  for (const path of [
    '/admin',
    '/admin/users',
    user,
    '/admin/audit',
    '/admin/products',
    '/admin/products/new',
    product,
    '/admin/categories',
    category,
    '/admin/catalog',
    '/admin/orders',
    '/admin/analytics',
    '/admin/analytics/products?range=30d',
    '/admin/analytics/searches?range=30d',
    '/admin/analytics/funnel?range=30d',
    '/admin/analytics/carts?range=30d',
  ]) {
    await scan(page, path);
  }
  // An order's own pages are scanned in orders.spec.ts, which places the order.
});
