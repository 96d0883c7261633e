import { test, expect } from '@playwright/test';
import { deflateSync } from 'node:zlib';
import { ready, signInAsAdmin } from './helpers';

// The admin catalog, end to end: a new product with two variants and an image, published,
// then found and bought-ready in the shop. Runs with JavaScript on and off.

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG (a diagonal gradient), big enough for the shop's minimum size. */
function pngImage(size = 400): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    for (let x = 0; x < size; x++) {
      rows[row + 1 + x * 3] = (x * 255) / size;
      rows[row + 2 + x * 3] = (y * 255) / size;
      rows[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('an admin creates a product with two variants and an image, publishes it and shoppers find it', async ({ page }, testInfo) => {
  // A long journey through full page loads (eight of them with JavaScript off).
  test.setTimeout(90_000);
  const js = testInfo.project.use.javaScriptEnabled !== false;
  const name = `Harbour Linen Apron ${testInfo.project.name} ${Date.now()}`;
  const sku = `APRON-${testInfo.project.name.toUpperCase()}-${Date.now()}`;

  await signInAsAdmin(page, js, '/admin/products');
  await ready(page, js);
  await page.getByTestId('new-product').click();
  await expect(page).toHaveURL(/\/admin\/products\/new/);
  await ready(page, js);

  const main = page.getByRole('main');
  await main.getByLabel('Name', { exact: true }).fill(name);
  await main.getByLabel('Brand').fill('Harbour Street');
  await main.getByLabel('Category', { exact: true }).selectOption({ label: 'Home & Kitchen › Cookware' });
  await main.getByLabel('Description', { exact: true }).fill('Heavy **linen** with a long tie.');
  await main.getByLabel('Attributes').fill('material: Linen');
  const first = page.getByTestId('new-variant-0');
  await first.getByLabel('SKU').fill(`${sku}-S`);
  await first.getByLabel('Options').fill('Size: S');
  await first.getByLabel(/^Price/).fill('24.00');
  await first.getByLabel('Stock on hand').fill('6');
  const second = page.getByTestId('new-variant-1');
  await second.getByLabel('SKU').fill(`${sku}-L`);
  await second.getByLabel('Options').fill('Size: L');
  await second.getByLabel(/^Price/).fill('26.50');
  await second.getByLabel('Was (optional)').fill('30');
  await second.getByLabel('Stock on hand').fill('2');
  await page.getByTestId('create-product').click();

  await expect(page).toHaveURL(/\/admin\/products\/[0-9a-f-]{36}\?flash=product_created/);
  await expect(page.getByTestId('flash')).toContainText('Product created as a draft');
  await expect(page.getByTestId('product-status')).toHaveText('draft');
  await expect(page.getByTestId('variant')).toHaveCount(2);
  await ready(page, js);

  // The image goes up through a plain multipart form in both modes.
  await page.getByLabel('Image (JPEG, PNG or WebP, up to 10 MB)').setInputFiles({
    name: 'apron.png',
    mimeType: 'image/png',
    buffer: pngImage(),
  });
  await page.getByLabel('Alt text for the new image').fill('The apron laid flat');
  await page.getByTestId('upload-image').click();
  await expect(page.getByTestId('upload-notice')).toHaveText('Image added.');
  const thumb = page.getByTestId('product-images').locator('img');
  await expect(thumb).toHaveCount(1);
  await expect(thumb).toHaveAttribute('alt', 'The apron laid flat');
  await ready(page, js);

  // A file that is not an image is refused with a clear message.
  await page.getByLabel('Image (JPEG, PNG or WebP, up to 10 MB)').setInputFiles({
    name: 'notes.png',
    mimeType: 'image/png',
    buffer: Buffer.from('these are notes, not a picture'),
  });
  await page.getByLabel('Alt text for the new image').fill('Not really');
  await page.getByTestId('upload-image').click();
  await expect(page.getByTestId('upload-error')).toHaveText('Upload a JPEG, PNG or WebP image.');
  await expect(page.getByTestId('product-images').locator('img')).toHaveCount(1);
  await ready(page, js);

  await page.getByTestId('status-active').click();
  await expect(page.getByTestId('product-status')).toHaveText('active');

  // The shop: found by search, with both variants, the sale price and the picture.
  await page.goto(`/search?q=${encodeURIComponent(name)}`);
  const card = page.getByRole('link', { name: new RegExp(name) }).first();
  await expect(card).toBeVisible();
  await card.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  const picture = page.locator('img[alt="The apron laid flat"]').first();
  await expect(picture).toHaveAttribute('srcset', /-1280\.jpg 1280w/);
  const body = page.getByRole('main');
  await expect(body).toContainText('24.00');
  await expect(body).toContainText('Size');
  await expect(body.getByText('L', { exact: true }).or(body.getByLabel('L', { exact: true })).first()).toBeVisible();
});
