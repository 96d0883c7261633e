import { test, expect } from '@playwright/test';
import { ready } from './helpers';
import { MASK } from './shopper';

test.describe('app shell', () => {
  test('home page renders the shop frame and the demo catalog', async ({ page }) => {
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    await expect(page).toHaveTitle('Harbour Street');
    await expect(page.getByTestId('shop-name')).toHaveText('Harbour Street');
    await expect(page.getByRole('main')).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Categories' }).getByRole('link')).toHaveCount(8);
    await expect(page.getByRole('search')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'New arrivals' })).toBeVisible();
    await expect(page.getByTestId('new-arrivals').getByRole('listitem')).toHaveCount(8);
    // The stylesheet loaded: the header uses Tailwind's white background.
    await expect(page.locator('header')).toHaveCSS('background-color', 'rgb(255, 255, 255)');
  });

  test('an unknown address shows the styled 404 page', async ({ page }) => {
    const response = await page.goto('/no/such/page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: "We couldn't find that page" })).toBeVisible();
    await page.getByRole('link', { name: 'Go to the home page' }).click();
    await expect(page).toHaveURL(/\/$/);
  });

  test('the newsletter form signs up and confirms', async ({ page }) => {
    await page.goto('/');
    const email = `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByTestId('newsletter-thanks')).toBeVisible();
  });

  test('a bad email is explained beside the field', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Email address').fill('not-an-email');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByText('Enter an email address like name@example.com.')).toBeVisible();
    await expect(page.getByLabel('Email address')).toHaveAttribute('aria-invalid', 'true');
  });
});

test.describe('islands', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'needs JavaScript');

  test('an island works in place and the header follows; a page with none loads no wasm', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const wasm: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('.wasm')) wasm.push(r.url());
    });
    await page.goto(MASK);
    await ready(page, true);
    expect(wasm).toHaveLength(1);
    // Mark the document: a full reload would lose the mark.
    await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await expect(page.getByTestId('cart-count')).toHaveText('0');
    await page.getByTestId('add-to-cart').getByRole('button', { name: 'Add to cart' }).click();
    await expect(page.getByTestId('added-to-cart')).toBeVisible();
    await expect(page.getByTestId('cart-count')).toHaveText('1');
    expect(await page.evaluate(() => (window as unknown as { __mark: number }).__mark)).toBe(42);
    expect(navigations).toEqual([]);

    // The sign-in page has nothing interactive: no script, no wasm, and it works as a form.
    wasm.length = 0;
    await page.goto('/login');
    await ready(page, true);
    await expect(page.locator('script[type=module]')).toHaveCount(0);
    expect(wasm).toEqual([]);
    await expect(page.getByTestId('cart-count')).toHaveText('1');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});

test.describe('without JavaScript', () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled, 'checks the no-JS path');

  test('the newsletter form works as a plain form post', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Email address').fill(`nojs-${Date.now()}@example.com`);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page).toHaveURL(/flash=subscribed/);
    await expect(page.getByTestId('newsletter-thanks')).toBeVisible();
  });
});
