import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { jsOn, mark, marked, ready } from './helpers';
import { uniqueEmail, waitForLink } from './mail';

// A guest fills a cart from product pages, changes it, and signs in: the guest cart merges
// into the cart the account already had. With JavaScript on every action posts in place
// and the header's count follows without a reload; with it off every action is a plain form
// post that lands on the cart page.

const PASSWORD = 'correct horse battery';
const TEE = '/p/fernhill-organic-cotton-t-shirt';

/** Server functions as the hydrated page calls them, for setting up another device. */
async function api(request: APIRequestContext, baseURL: string, endpoint: string, form: Record<string, string>) {
  const res = await request.post(`/api/${endpoint}`, {
    form,
    headers: { origin: baseURL, 'sec-fetch-site': 'same-origin', accept: 'application/json' },
  });
  expect(res.status(), `${endpoint}: ${await res.text()}`).toBe(200);
  return res;
}

/** The variant id the product page's add-to-cart form carries. */
async function variantIdOf(request: APIRequestContext, path: string): Promise<string> {
  const html = await (await request.get(path)).text();
  const m = html.match(/name="variant_id" value="([0-9a-f-]{36})"/);
  expect(m, `an add-to-cart form on ${path}`).not.toBeNull();
  return m![1];
}

async function addFromProductPage(page: Page, js: boolean, sku: string, quantity: number) {
  await page.goto(`${TEE}?variant=${sku}`);
  await ready(page, js);
  await expect(page.getByTestId('sku')).toHaveText(sku);
  const form = page.getByTestId('add-to-cart');
  await form.getByLabel('Quantity').fill(String(quantity));
  if (js) await mark(page);
  await form.getByRole('button', { name: 'Add to cart' }).click();
  if (js) {
    // In place: the form says so and the page was not reloaded.
    await expect(form.getByTestId('added-to-cart')).toContainText('Added to your cart.');
    expect(await marked(page), 'added in place').toBe(true);
  } else {
    await expect(page).toHaveURL(/\/cart$/);
    await expect(page.getByTestId('cart-notice')).toContainText('Added to your cart.');
  }
}

function line(page: Page, sku: string) {
  return page.locator(`[data-testid=cart-line][data-sku="${sku}"]`);
}

test('a guest fills the cart from product pages, changes it, and signs in to find it merged', async ({
  page,
  playwright,
  baseURL,
}, info) => {
  const js = jsOn(info);
  const base = baseURL!;
  page.on('console', (m) => { if (m.type() === 'error') console.log('CONSOLE', m.text().slice(0, 500)); });
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message.slice(0, 500)));

  // On another device the customer already has a hair mask in their cart.
  const email = uniqueEmail('cart');
  const phone = await playwright.request.newContext({ baseURL: base });
  await api(phone, base, 'account/register', { display_name: 'Cart Tester', email, password: PASSWORD });
  // The link in the welcome mail confirms the address and signs the phone in.
  const token = new URLSearchParams((await waitForLink(email, '/verify-email')).split('?')[1]).get('token')!;
  await api(phone, base, 'account/verify-email', { token });
  const mask = await variantIdOf(phone, '/p/brightsmile-argan-oil-hair-mask');
  await api(phone, base, 'cart/add', { variant_id: mask, quantity: '1' });
  await phone.dispose();

  // As a guest: two sizes of the T-shirt.
  await addFromProductPage(page, js, 'CS90-TEE-S', 2);
  await expect(page.getByTestId('cart-count')).toHaveText('2');
  await addFromProductPage(page, js, 'CS90-TEE-XL', 1);
  await expect(page.getByTestId('cart-count')).toHaveText('3');

  // The header's mini-cart opens on hover, without JavaScript too (on any page but the cart
  // itself, where a JS-off add lands).
  await page.goto('/');
  await ready(page, js);
  await page.getByTestId('cart-link').hover();
  const mini = page.getByTestId('mini-cart');
  await expect(mini).toBeVisible();
  await expect(mini).toContainText('Fernhill Organic Cotton T-Shirt');
  await expect(page.getByTestId('mini-cart-subtotal')).toHaveText('€61.97');

  // The header's cart link leads to the cart, and the preview does not stay open over it.
  await page.getByTestId('cart-link').click();
  await expect(page).toHaveURL(/\/cart$/);
  await ready(page, js);
  await expect(mini).toBeHidden();
  await expect(page.getByTestId('cart-line')).toHaveCount(2);
  await expect(line(page, 'CS90-TEE-S').getByTestId('line-options')).toHaveText('Size: S');
  await expect(line(page, 'CS90-TEE-S').getByTestId('line-total')).toHaveText('€39.98');
  await expect(line(page, 'CS90-TEE-XL').getByTestId('unit-price')).toHaveText('€21.99 each');
  await expect(page.getByTestId('cart-subtotal')).toHaveText('€61.97');
  await expect(page.getByTestId('checkout')).toHaveAttribute('href', '/checkout');

  // One more with "+", then type a quantity.
  if (js) await mark(page);
  await line(page, 'CS90-TEE-S').getByRole('button', { name: 'One more Fernhill Organic Cotton T-Shirt (Size: S)' }).click();
  await expect(line(page, 'CS90-TEE-S').getByTestId('line-quantity')).toHaveValue('3');
  await expect(page.getByTestId('cart-subtotal')).toHaveText('€81.96');
  const quantity = line(page, 'CS90-TEE-S').getByLabel('Quantity of Fernhill Organic Cotton T-Shirt (Size: S)');
  await quantity.fill('4');
  if (js) {
    await quantity.press('Enter');
  } else {
    await line(page, 'CS90-TEE-S').getByRole('button', { name: 'Update' }).click();
  }
  await expect(line(page, 'CS90-TEE-S').getByTestId('line-total')).toHaveText('€79.96');
  await expect(page.getByTestId('cart-subtotal')).toHaveText('€101.95');
  await expect(page.getByTestId('cart-count')).toHaveText('5');
  if (js) expect(await marked(page), 'changed in place').toBe(true);

  // Remove the XL.
  await page.goto('/cart');
  await ready(page, js);
  if (js) await mark(page);
  await line(page, 'CS90-TEE-XL').getByRole('button', { name: 'Remove Fernhill Organic Cotton T-Shirt (Size: XL)' }).click();
  await expect(line(page, 'CS90-TEE-XL')).toHaveCount(0);
  await expect(page.getByTestId('cart-line')).toHaveCount(1);
  await expect(page.getByTestId('cart-subtotal')).toHaveText('€79.96');
  await expect(page.getByTestId('cart-count')).toHaveText('4');
  if (js) expect(await marked(page), 'removed in place').toBe(true);

  // Sign in from the cart: the guest's T-shirts join the hair mask from the other device.
  await page.getByTestId('cart-sign-in').click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await ready(page, js);
  const main = page.getByRole('main');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password').fill(PASSWORD);
  await main.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/cart\?flash=signed_in$/);
  await ready(page, js);
  await expect(page.getByTestId('cart-line')).toHaveCount(2);
  await expect(line(page, 'CS90-TEE-S').getByTestId('line-quantity')).toHaveValue('4');
  await expect(page.getByTestId('cart-count')).toHaveText('5');
  await expect(page.getByTestId('cart-sign-in')).toHaveCount(0);
});

test('an empty cart leads back to the shop, where a listing adds a product in one click', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/cart');
  await ready(page, js);
  await expect(page.getByTestId('cart-empty')).toContainText('Your cart is empty.');
  await expect(page.getByTestId('cart-count')).toHaveText('0');
  await page.getByRole('link', { name: 'Continue shopping' }).click();
  await expect(page).toHaveURL(/\/$/);

  // A single-variant product from a department's cards: no options to choose.
  await page.goto('/c/beauty-and-personal-care');
  await ready(page, js);
  const card = page.getByTestId('product-card').filter({ hasText: 'Brightsmile Argan Oil Hair Mask' });
  if (js) await mark(page);
  await card.getByRole('button', { name: 'Add to cart: Brightsmile Argan Oil Hair Mask' }).click();
  if (js) {
    await expect(card.getByTestId('added-to-cart')).toContainText('Added to your cart.');
    await expect(page.getByTestId('cart-count')).toHaveText('1');
    expect(await marked(page), 'added in place').toBe(true);
    await card.getByRole('link', { name: 'View cart' }).click();
  }
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId('cart-line')).toHaveCount(1);
  await expect(page.getByTestId('line-name')).toHaveText('Brightsmile Argan Oil Hair Mask');
  await expect(page.getByTestId('cart-count')).toHaveText('1');

  // Emptying the cart asks for nothing more.
  await ready(page, js);
  await page.getByTestId('clear-cart').click();
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await expect(page.getByTestId('cart-count')).toHaveText('0');
});
