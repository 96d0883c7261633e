import { test, expect } from '@playwright/test';
import { jsOn, ready } from './helpers';
import { MASK, addToCart, checkoutAsGuest, chooseShipping, placeOrder } from './shopper';
import { uniqueEmail, waitForLink, waitForMail } from './mail';

// Checkout end to end, with JavaScript on and off: a guest pays on the offline payment page
// and opens the order from the confirmation mail; a customer pays to a saved address and
// finds the order in their history; a declined payment returns to checkout with the cart
// intact; two shoppers race for the last unit.

const PASSWORD = 'correct horse battery';

test('a guest checks out, pays on the offline page and opens the order from the mail', async ({ page }, info) => {
  const js = jsOn(info);
  const email = uniqueEmail('guest');
  await addToCart(page, js, MASK);
  await checkoutAsGuest(page, js, email);
  await expect(page.getByTestId('checkout-line')).toContainText('Brightsmile Argan Oil Hair Mask');
  await expect(page.getByTestId('review-subtotal')).toHaveText('€22.95');
  await expect(page.getByTestId('review-shipping')).toHaveText('€4.90');
  await expect(page.getByTestId('review-total')).toHaveText('€27.85');
  await expect(page.getByTestId('review-vat')).toHaveText('€4.65');
  await placeOrder(page);
  await ready(page, js);
  await expect(page.getByTestId('offline-amount')).toHaveText('€27.85');
  await page.getByTestId('offline-pay').click();
  await expect(page).toHaveURL(/\/checkout\/complete\//);
  await ready(page, js);
  await expect(page.getByTestId('payment-status')).toContainText('Paid');
  const number = (await page.getByTestId('order-number').textContent())!.trim();
  expect(number).toMatch(/^HS-\d+$/);

  // Both mails arrive; the link in them opens the order without an account.
  await waitForMail(email, `Order ${number} received`);
  const paid = await waitForMail(email, `Payment confirmed for order ${number}`);
  const link = paid.match(/https?:\/\/[^\s"<>]+(\/orders\/[0-9a-f-]{36}\?t=[A-Za-z0-9_-]+)/);
  expect(link, 'a link to the order').not.toBeNull();
  await page.context().clearCookies();
  await page.goto(link![1]);
  await ready(page, js);
  await expect(page.getByTestId('order-detail')).toContainText('Brightsmile Argan Oil Hair Mask');
  await expect(page.getByTestId('order-status')).toHaveText('Paid');
  await expect(page.getByTestId('order-total')).toHaveText('€27.85');
});

test('a customer checks out with a saved address, saves the card, finds the order and removes the card', async ({ page, baseURL }, info) => {
  const js = jsOn(info);
  const email = uniqueEmail('customer');
  const api = async (endpoint: string, form: Record<string, string>) => {
    const res = await page.request.post(`/api/${endpoint}`, {
      form,
      headers: { origin: baseURL!, 'sec-fetch-site': 'same-origin', accept: 'application/json' },
    });
    expect(res.status(), `${endpoint}: ${await res.text()}`).toBe(200);
  };
  // Signed up and confirmed in this browser, with a saved default address.
  await api('account/register', { display_name: 'Ada', email, password: PASSWORD });
  const token = new URLSearchParams((await waitForLink(email, '/verify-email')).split('?')[1]).get('token')!;
  await api('account/verify-email', { token });
  await api('account/save-address', {
    full_name: 'Ada Lovelace', line1: '12 St James Square', line2: '', city: 'London', region: '',
    postal_code: 'SW1Y 4JH', country: 'GB', phone: '', make_default: 'on',
  });

  await addToCart(page, js, MASK);
  await page.goto('/checkout');
  await ready(page, js);
  await expect(page.getByTestId('contact-email')).toHaveText(email);
  await expect(page.getByTestId('saved-address').first()).toBeChecked();
  await page.getByRole('button', { name: 'Continue to shipping' }).click();
  await chooseShipping(page, js, 'Express');
  await expect(page.getByRole('main')).toContainText('United Kingdom');
  await expect(page.getByTestId('review-shipping')).toHaveText('€12.90');
  await placeOrder(page);
  await ready(page, js);
  await page.getByLabel('Save this card for next time').check();
  await page.getByTestId('offline-pay').click();
  await expect(page).toHaveURL(/\/checkout\/complete\//);
  await ready(page, js);
  const number = (await page.getByTestId('order-number').textContent())!.trim();

  await page.goto('/account/orders');
  await ready(page, js);
  const history = page.getByTestId('order-history');
  await expect(history).toContainText(number);
  await history.getByRole('link', { name: number }).click();
  await expect(page).toHaveURL(/\/account\/orders\/[0-9a-f-]{36}$/);
  await ready(page, js);
  await expect(page.getByTestId('order-detail')).toContainText('Express');
  await expect(page.getByTestId('order-status')).toHaveText('Paid');

  // The card saved on the payment page, and removed again.
  await page.goto('/account/payment-methods');
  await ready(page, js);
  const card = page.getByTestId('card');
  await expect(card).toContainText('Visa ending in 4242');
  await card.getByLabel('Remove the Visa ending in 4242').check();
  await card.getByRole('button', { name: 'Remove' }).click();
  await ready(page, js);
  await expect(page.getByTestId('flash')).toContainText('Card removed');
  await expect(page.getByTestId('no-cards')).toBeVisible();
});

test('a declined payment returns to checkout with a message and the cart intact', async ({ page }, info) => {
  const js = jsOn(info);
  await addToCart(page, js, MASK);
  await checkoutAsGuest(page, js, uniqueEmail('declined'));
  await placeOrder(page);
  await ready(page, js);
  await page.getByTestId('offline-decline').click();
  await expect(page).toHaveURL(/\/checkout\/review\?flash=payment_declined/);
  await ready(page, js);
  await expect(page.getByTestId('flash')).toContainText('Your payment was declined');
  await expect(page.getByTestId('checkout-line')).toContainText('Brightsmile Argan Oil Hair Mask');
  // It can be placed again, and paid.
  await placeOrder(page);
  await page.getByTestId('offline-pay').click();
  await expect(page).toHaveURL(/\/checkout\/complete\//);
  await ready(page, js);
  await expect(page.getByTestId('payment-status')).toContainText('Paid');
});

test('two shoppers race for the last unit: one pays, the other is told it sold out', async ({ page, browser }, info) => {
  const js = jsOn(info);
  // A product with one unit left, a different one for each run (they share the server).
  // (Neither is in Clothing & Shoes, whose in-stock count the browsing test pages through.)
  const last = js ? '/p/edge-and-co-brightening-vitamin-c-eye-cream' : '/p/tessaro-ultralight-ergonomic-mouse';
  const other = await browser.newContext({ javaScriptEnabled: js });
  const rival = await other.newPage();
  await addToCart(page, js, last);
  await addToCart(rival, js, last);
  await checkoutAsGuest(page, js, uniqueEmail('first'));
  await checkoutAsGuest(rival, js, uniqueEmail('second'));

  await placeOrder(page);
  await page.getByTestId('offline-pay').click();
  await expect(page).toHaveURL(/\/checkout\/complete\//);

  await rival.getByRole('button', { name: 'Place order and pay' }).click();
  await expect(rival.getByText(/sold out/).first()).toBeVisible();
  await expect(rival).not.toHaveURL(/\/pay\//);
  await other.close();
});
