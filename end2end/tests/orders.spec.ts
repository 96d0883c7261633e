import { test, expect, type Browser, type Page } from '@playwright/test';
import { axeScan, jsOn, ready, signInAsAdmin } from './helpers';
import { MASK, addToCart, checkoutAsGuest, placeOrder } from './shopper';
import { uniqueEmail, waitForMail } from './mail';

// Order handling end to end, with JavaScript on and off: staff ship part of an order with a
// tracking number and the customer sees it on their order page; staff refund a unit with
// restock and the order shows it; a customer cancels an order that has not shipped.

/** A guest (in a browser of their own) buys `quantity` hair masks and pays; returns the
 * order's number, staff page and the guest's signed order link. */
async function paidOrder(browser: Browser, js: boolean, quantity: number) {
  const context = await browser.newContext({ javaScriptEnabled: js });
  const guest = await context.newPage();
  const email = uniqueEmail('orders');
  await addToCart(guest, js, MASK, quantity);
  await checkoutAsGuest(guest, js, email);
  await placeOrder(guest);
  await ready(guest, js);
  await guest.getByTestId('offline-pay').click();
  await expect(guest).toHaveURL(/\/checkout\/complete\//);
  await ready(guest, js);
  await expect(guest.getByTestId('payment-status')).toContainText('Paid');
  const number = (await guest.getByTestId('order-number').textContent())!.trim();
  const id = guest.url().match(/\/checkout\/complete\/([0-9a-f-]{36})/)![1];
  const mail = await waitForMail(email, `Payment confirmed for order ${number}`);
  const link = mail.match(/https?:\/\/[^\s"<>]+(\/orders\/[0-9a-f-]{36}\?t=[A-Za-z0-9_-]+)/)![1];
  return { guest, context, number, email, staffPage: `/admin/orders/${id}`, link };
}

test('staff ship part of an order with a tracking number, then refund a unit with restock', async ({ page, browser }, info) => {
  const js = jsOn(info);
  const order = await paidOrder(browser, js, 2);
  await signInAsAdmin(page, js, order.staffPage);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Order ${order.number}`);
  await expect(page.getByTestId('order-fulfilment')).toHaveText('Not shipped');

  // One of the two units, by DHL.
  const ship = page.getByTestId('ship-form');
  await ship.locator('input[type=number]').first().fill('1');
  await ship.getByLabel('Carrier').fill('DHL');
  await ship.getByLabel('Tracking number').fill('JD014600006');
  await ship.getByLabel('The parcel has left; tell the customer.').check();
  await ship.getByRole('button', { name: 'Mark shipped' }).click();
  await ready(page, js);
  await expect(page.getByTestId('order-fulfilment')).toHaveText('Partially shipped');
  await expect(page.getByTestId('shipments')).toContainText('JD014600006');
  await expect(page.getByTestId('line-shipped').first()).toHaveText('1');

  // The customer sees the parcel and its tracking link.
  await order.guest.goto(order.link);
  await ready(order.guest, js);
  await expect(order.guest.getByTestId('parcels')).toContainText('DHL');
  await expect(order.guest.getByTestId('tracking-link')).toHaveAttribute('href', /dhl\.com.*JD014600006/);
  // And gets the mail, with the tracking link and what is still to come.
  const shipped = await waitForMail(order.email, `Part of your order ${order.number} is on its way`);
  expect(shipped).toContain('Tracking number: JD014600006');
  expect(shipped).toMatch(/https:\/\/www\.dhl\.com\/\S*JD014600006/);
  expect(shipped).toContain('Still to come');

  // Refund the unit still here, with restock.
  const refund = page.getByTestId('refund-form');
  await refund.locator('input[type=number]').first().fill('1');
  await refund.getByLabel('Reason').fill('arrived damaged');
  await refund.getByLabel('Give this money back to the customer.').check();
  await refund.getByRole('button', { name: 'Refund' }).click();
  await ready(page, js);
  await expect(page.getByTestId('refunds')).toContainText('€22.95');
  await expect(page.getByTestId('refunds')).toContainText('(1 restocked)');
  await expect(page.getByTestId('line-refunded').first()).toHaveText('1');
  await expect(page.getByTestId('refunded')).toHaveText('€22.95');
  await expect(page.getByTestId('order-status')).toHaveText('Partially refunded');
  // The rest of the order is shipped: nothing is left to ship.
  await expect(page.getByTestId('order-fulfilment')).toHaveText('Shipped');
  await expect(page.getByTestId('ship-form')).toHaveCount(0);

  // The shipped unit comes back: refunded as a return, it leaves nothing owed.
  await refund.getByLabel('of 1 shipped (returned or kept)').fill('1');
  await refund.getByLabel('Reason').fill('returned');
  await refund.getByLabel('Give this money back to the customer.').check();
  await refund.getByRole('button', { name: 'Refund' }).click();
  await ready(page, js);
  await expect(page.getByTestId('refunds')).toContainText('(1 shipped, 1 restocked)');
  await expect(page.getByTestId('line-refunded').first()).toHaveText('2');
  await expect(page.getByTestId('line-to-ship').first()).toHaveText('0');
  await expect(page.getByTestId('refunded')).toHaveText('€45.90');

  await order.guest.reload();
  await ready(order.guest, js);
  await expect(order.guest.getByTestId('my-refunds')).toContainText('€22.95');

  // No serious accessibility problem on the order's pages (axe runs as a script).
  if (js) {
    for (const path of [order.staffPage, `${order.staffPage}/invoice`, `${order.staffPage}/packing-slip`, '/admin/orders']) {
      await axeScan(page, path);
    }
    await axeScan(order.guest, order.link);
  }
  await order.context.close();
});

test('a customer cancels an order that has not shipped', async ({ browser }, info) => {
  const js = jsOn(info);
  const order = await paidOrder(browser, js, 1);
  const page = order.guest;
  await page.goto(order.link);
  await ready(page, js);
  await expect(page.getByTestId('order-status')).toHaveText('Paid');
  const form = page.getByTestId('my-cancel-form');
  await form.getByLabel('Yes, cancel my order and refund me.').check();
  await form.getByRole('button', { name: 'Cancel order' }).click();
  await ready(page, js);
  await expect(page.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(page.getByTestId('my-refunds')).toContainText('€27.85');
  await expect(page.getByTestId('my-cancel-form')).toHaveCount(0);
  await order.context.close();
});

test('the notification log shows each mail, opens it as sent, resends it and previews every template', async ({ page, browser }, info) => {
  const js = jsOn(info);
  const order = await paidOrder(browser, js, 1);
  await order.context.close();
  await signInAsAdmin(page, js, '/admin/notifications');

  // Filtered to this shopper: the order's mails, sent.
  await page.getByLabel('Recipient').fill(order.email);
  await page.getByRole('button', { name: 'Filter' }).click();
  await ready(page, js);
  const rows = page.getByTestId('notifications');
  await expect(rows).toContainText(`Order ${order.number} received`);
  await expect(rows).toContainText(`Payment confirmed for order ${order.number}`);
  await expect(rows).toContainText('Sent');

  // Open one as it was sent: the text part, and the HTML part in its frame.
  await rows.getByRole('link', { name: `Payment confirmed for order ${order.number}` }).click();
  await ready(page, js);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Payment confirmed for order ${order.number}`);
  await expect(page.getByTestId('notification-to')).toHaveText(order.email);
  await expect(page.getByTestId('notification-text')).toContainText(order.number);
  await expect(page.frameLocator('[data-testid=notification-html]').getByRole('link', { name: 'View your order' })).toBeVisible();

  // Resend it: a new message of the log, sent again.
  const original = page.url();
  await page.getByLabel('Send this message to the recipient again').check();
  await page.getByRole('button', { name: 'Resend' }).click();
  await ready(page, js);
  await expect(page).not.toHaveURL(original);
  await expect(page.getByRole('link', { name: 'the original message' })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('notification-status')).toHaveText('Sent', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // Every template previews with sample data.
  await page.goto('/admin/mail-templates');
  await ready(page, js);
  await page.getByTestId('template-list').getByRole('link', { name: 'Order shipped' }).click();
  await ready(page, js);
  await expect(page.getByTestId('template-subject')).toContainText('HS-10042');
  await expect(page.getByTestId('template-text')).toContainText('Tracking number:');
  await expect(page.frameLocator('[data-testid=template-html]').getByRole('link', { name: 'Track your parcel' })).toBeVisible();
  if (js) {
    for (const path of ['/admin/notifications', '/admin/mail-templates?t=refund_issued']) {
      await axeScan(page, path);
    }
  }
});
