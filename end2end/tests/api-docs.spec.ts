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

// The served document is a valid OpenAPI 3.1 document (checked against the OpenAPI 3.1
// JSON Schema by @seriousme/openapi-schema-validator, from npm). The Rust tests check every
// response against it; this checks the document itself.
test('the served OpenAPI document validates against the OpenAPI 3.1 schema', async ({ request }) => {
  const response = await request.get('/api/v1/openapi.json');
  expect(response.status()).toBe(200);
  const doc = await response.json();
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  // Every operation is in it, the admin routes included.
  expect(Object.keys(doc.paths)).toContain('/admin/orders/{id}/refunds');
});
