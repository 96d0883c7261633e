import { test, expect } from '@playwright/test';
import { jsOn, ready, signInAsAdmin } from './helpers';

// API keys and webhooks from the admin, with JavaScript on and off: a key is shown once,
// works against the JSON API within its scope, and stops working when revoked; a webhook
// endpoint inside the shop's network is refused, one outside is saved and its test event is
// in the delivery log.

test('an admin makes an API key, sees it once, uses it and revokes it', async ({ page }, info) => {
  const js = jsOn(info);
  await signInAsAdmin(page, js, '/admin/api-keys');
  const name = `ERP sync ${info.project.name} ${Date.now()}`;
  const form = page.getByTestId('new-key-form');
  await form.getByLabel('Name').fill(name);
  await form.getByTestId('scope-orders:read').check();
  await form.getByLabel('Expires').selectOption('30');
  await form.getByRole('button', { name: 'Make key' }).click();

  const fresh = page.getByTestId('fresh-key-value');
  await expect(fresh).toBeVisible();
  const key = await fresh.inputValue();
  expect(key).toMatch(/^shk_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId('fresh-key')).toContainText(name);

  // It works within its scope, and only there.
  const api = page.context().request;
  const orders = await api.get('/api/v1/admin/orders', { headers: { authorization: `Bearer ${key}` } });
  expect(orders.status()).toBe(200);
  const products = await api.get('/api/v1/admin/products', { headers: { authorization: `Bearer ${key}` } });
  expect(products.status()).toBe(403);
  expect((await products.json()).error.code).toBe('insufficient_scope');

  // Shown once: a fresh load lists it by its first characters only.
  await page.goto('/admin/api-keys');
  await ready(page, js);
  await expect(page.getByTestId('fresh-key')).toHaveCount(0);
  const row = page.getByTestId('api-key-row').filter({ hasText: name });
  await expect(row).toContainText(key.slice(0, 12));
  await expect(row).toContainText('Active');
  await expect(row).toContainText('orders:read');
  expect(await page.content()).not.toContain(key);

  await row.getByRole('button', { name: /Revoke/ }).click();
  await expect(page.getByTestId('api-key-row').filter({ hasText: name })).toContainText('Revoked');
  const refused = await api.get('/api/v1/admin/orders', { headers: { authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('key_revoked');
});

test('an admin adds a webhook endpoint, is refused one inside the network, and tests it', async ({ page }, info) => {
  const js = jsOn(info);
  await signInAsAdmin(page, js, '/admin/webhooks');
  const form = page.getByTestId('new-webhook-form');
  await form.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data');
  await form.getByTestId('event-order.paid').check();
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(page.getByText(/inside the shop's own network/)).toBeVisible();

  // An outside address is saved (this machine has no route out: the test event fails, and
  // the log says why).
  const url = `https://erp.example.com/hooks/${info.project.name}-${Date.now()}`;
  await page.goto('/admin/webhooks');
  await ready(page, js);
  const again = page.getByTestId('new-webhook-form');
  await again.getByLabel('URL').fill(url);
  await again.getByTestId('event-order.paid').check();
  await again.getByTestId('event-stock.low').check();
  await again.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks\/[0-9a-f-]{36}/);
  await ready(page, js);
  await expect(page.getByTestId('webhook-secret')).toHaveValue(/^whsec_/);
  await expect(page.getByTestId('deliveries-empty')).toBeVisible();

  await page.getByRole('button', { name: 'Send a test event' }).click();
  const delivery = page.getByTestId('delivery-row').first();
  await expect(delivery).toContainText('ping', { timeout: 20_000 });
  await expect(delivery).toContainText('Failed');
  await expect(page.getByText(/was not delivered/)).toBeVisible();

  // Deleted (after confirming): no more events go there.
  await page.getByLabel(/Stop sending events here/).check();
  await page.getByTestId('delete-webhook').click();
  await expect(page).toHaveURL(/\/admin\/webhooks(\?|$)/);
  await expect(page.getByText(/Endpoint deleted/)).toBeVisible();
  await expect(page.getByTestId('webhook-row').filter({ hasText: url })).toHaveCount(0);
});
