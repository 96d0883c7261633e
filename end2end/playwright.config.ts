import { defineConfig, devices } from '@playwright/test';

// The server is started by scripts/test.sh (E2E_BASE_URL). Chromium comes from Debian's
// package: Playwright's own browser download is not available here.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // A journey signs up (argon2), reads mail and loads several pages, each of which may wait
  // up to 30 s for hydration on a busy 2-core machine: 30 s for the whole test is too tight.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3000',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [
    { name: 'js-on', use: { ...devices['Desktop Chrome'], channel: undefined } },
    { name: 'js-off', use: { ...devices['Desktop Chrome'], channel: undefined, javaScriptEnabled: false } },
  ],
});
