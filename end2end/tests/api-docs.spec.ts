import { test, expect } from '@playwright/test';

// The JSON API's reference page renders the server's OpenAPI document with Swagger UI,
// whose files come from this site (npm swagger-ui-dist), never from a CDN.
test('the API reference lists the operations from the OpenAPI document', async ({ page }, info) => {
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  const response = await page.goto('/api/v1/docs');
  expect(response?.status()).toBe(200);
  if (info.project.name === 'js-off') {
    await expect(page.getByRole('link', { name: '/api/v1/openapi.json' })).toBeVisible();
    return;
  }
  await expect(page.getByRole('heading', { name: /Shop API/ })).toBeVisible();
  await expect(page.getByText('/products/{slug}', { exact: true })).toBeVisible();
  await expect(page.getByText('/auth/token', { exact: true })).toBeVisible();
  const origin = new URL(page.url()).origin;
  expect(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
});
