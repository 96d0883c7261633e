import { expect, type Page } from '@playwright/test';
import { ready } from './helpers';

// A shopper's steps that several specs take: filling the cart and checking out as a guest.

/** A product of the demo catalog with plenty of stock. */
export const MASK = '/p/brightsmile-argan-oil-hair-mask';

export async function addToCart(page: Page, js: boolean, path: string, quantity = 1) {
  await page.goto(path);
  await ready(page, js);
  const form = page.getByTestId('add-to-cart');
  if (quantity !== 1) await form.getByLabel('Quantity').fill(String(quantity));
  await form.getByRole('button', { name: 'Add to cart' }).click();
  if (js) {
    await expect(page.getByTestId('added-to-cart')).toBeVisible();
  } else {
    await expect(page).toHaveURL(/\/cart$/);
  }
}

/** From the cart through details (a new address), shipping and review. */
export async function checkoutAsGuest(page: Page, js: boolean, email: string, method = 'Standard') {
  await page.goto('/cart');
  await ready(page, js);
  await page.getByTestId('checkout').click();
  await expect(page).toHaveURL(/\/checkout$/);
  await ready(page, js);
  const form = page.getByTestId('details-form');
  await form.getByLabel('Email address').fill(email);
  await form.getByLabel('Full name').first().fill('Grace Hopper');
  await form.getByLabel('Address line 1').first().fill('1 Harbour Street');
  await form.getByLabel('Town or city').first().fill('Hamburg');
  await form.getByLabel('Postcode').first().fill('20095');
  await form.locator('select[name=country]').selectOption('DE');
  await form.getByRole('button', { name: 'Continue to shipping' }).click();
  await chooseShipping(page, js, method);
}

export async function chooseShipping(page: Page, js: boolean, method: string) {
  await expect(page).toHaveURL(/\/checkout\/shipping/);
  await ready(page, js);
  const shipping = page.getByTestId('shipping-form');
  await shipping.getByText(method, { exact: true }).click();
  await shipping.getByRole('button', { name: 'Continue to review' }).click();
  await expect(page).toHaveURL(/\/checkout\/review/);
  await ready(page, js);
}

export async function placeOrder(page: Page) {
  await page.getByRole('button', { name: 'Place order and pay' }).click();
  await expect(page).toHaveURL(/\/pay\/offline\/cs_offline_/);
}
