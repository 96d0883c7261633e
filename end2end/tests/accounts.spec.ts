import { test, expect, type Page } from '@playwright/test';
import { uniqueEmail, waitForLink } from './mail';

const PASSWORD = 'correct horse battery';

/** Signs up, then opens the link from the welcome mail, which confirms and signs in. */
async function register(page: Page, name: string, email: string) {
  await page.goto('/register');
  const main = page.getByRole('main');
  await main.getByLabel('Your name').fill(name);
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password').fill(PASSWORD);
  await main.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/login\?flash=registration_sent/);
  await expect(page.getByTestId('flash')).toContainText('Check your inbox');
  await page.goto(await waitForLink(email, '/verify-email'));
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page).toHaveURL(/\/account\?flash=welcome/);
}

async function signOut(page: Page) {
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/flash=signed_out/);
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  const main = page.getByRole('main');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password').fill(password);
  await main.getByRole('button', { name: 'Sign in' }).click();
}

test('register, confirm the address, sign out, sign in, change the password', async ({ browser, page }) => {
  const email = uniqueEmail('journey');
  await register(page, 'Journey Tester', email);
  await expect(page.getByTestId('flash')).toContainText('Your address is confirmed');
  await expect(page.getByTestId('account-link')).toContainText('Journey Tester');
  await expect(page.getByTestId('verified')).toBeVisible();
  await expect(page.getByTestId('verify-banner')).toHaveCount(0);

  // Signing up again with the same address says the same, and creates nothing.
  const other = await browser.newPage();
  await other.goto('/register');
  await other.getByRole('main').getByLabel('Your name').fill('Someone Else');
  await other.getByRole('main').getByLabel('Email address').fill(email);
  await other.getByRole('main').getByLabel('Password').fill('a different passphrase');
  await other.getByRole('main').getByRole('button', { name: 'Create account' }).click();
  await expect(other).toHaveURL(/\/login\?flash=registration_sent/);
  await other.close();

  await signOut(page);
  await expect(page.getByTestId('sign-in-link')).toBeVisible();

  // A wrong password is explained and the email is kept.
  await signIn(page, email, 'not the password');
  await expect(page.getByTestId('form-error')).toContainText('The email or password is incorrect.');
  await expect(page.getByRole('main').getByLabel('Email address')).toHaveValue(email);
  await expect(page.getByRole('main').getByLabel('Password')).toHaveValue('');

  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account\?flash=signed_in/);

  await page.goto('/account/profile');
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Change password' }) });
  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
  await form.getByLabel('Repeat the new password').fill('a brand new passphrase');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('flash')).toContainText('Your password has been changed');

  await page.getByTestId('sign-out').click();
  await signIn(page, email, 'a brand new passphrase');
  await expect(page).toHaveURL(/\/account\?flash=signed_in/);
});

test('sign-in brings the shopper back to the page they wanted', async ({ page }) => {
  const email = uniqueEmail('next');
  await register(page, 'Next Tester', email);
  await signOut(page);

  await page.goto('/account/addresses');
  await expect(page).toHaveURL(/\/login\?next=\/account\/addresses/);
  await page.getByRole('main').getByLabel('Email address').fill(email);
  await page.getByRole('main').getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account\/addresses\?flash=signed_in/);
  await expect(page.getByRole('heading', { name: 'Addresses' })).toBeVisible();
});

test('forgotten password: request a link, choose a new password, sign in', async ({ page }) => {
  const email = uniqueEmail('reset');
  await register(page, 'Reset Tester', email);
  await signOut(page);

  await page.goto('/forgot-password');
  await page.getByRole('main').getByLabel('Email address').fill(email);
  await page.getByRole('main').getByRole('button', { name: 'Email me a link' }).click();
  await expect(page.getByTestId('flash')).toContainText('If an account exists for that address');

  const link = await waitForLink(email, '/reset-password');
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill('the new secret phrase');
  await page.getByLabel('Repeat the new password').fill('the new secret phrase');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page).toHaveURL(/\/login\?flash=password_reset/);

  await page.goto(link);
  await expect(page.getByTestId('reset-link-invalid')).toBeVisible();

  await signIn(page, email, 'the new secret phrase');
  await expect(page).toHaveURL(/\/account\?flash=signed_in/);
});

test('an admin grants the vendor role and the change is in the audit log', async ({ browser, page }) => {
  const email = uniqueEmail('vendor');
  const shopper = await browser.newPage();
  await register(shopper, 'Vera Vendor', email);
  await shopper.close();

  await signIn(page, 'admin@example.com', 'demo-admin-password');
  await expect(page.getByTestId('admin-link')).toBeVisible();
  await page.goto('/admin/users');
  await page.getByLabel('Email or name').fill(email);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('users-total')).toHaveText('1 user');
  await page.getByRole('link', { name: 'Vera Vendor' }).click();
  await expect(page.getByTestId('user-email')).toContainText(email);
  await page.getByTestId('toggle-vendor').click();
  await expect(page.getByTestId('flash')).toContainText('Saved');
  await expect(page.getByTestId('role-vendor')).toHaveText('Granted');

  // Other tests change things at the same time: find this user's entry, named by address,
  // with the change in words.
  await page.goto('/admin/audit?action=user.role_granted');
  const entry = page.getByTestId('audit-log').locator('tbody tr', { hasText: email });
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText('user.role_granted');
  await expect(entry).toContainText('admin@example.com');
  await expect(entry).toContainText('roles: ["customer"] → ["customer","vendor"]');
});
