import express from 'express';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '@bulwark/test-servers';
import { hasChromium, launchChromium, problemsOf } from '@bulwark/test-servers/browser';
import { featureFlags, type FeatureFlags } from '../src/index.js';
import { flagsAdmin } from '../src/express.js';

describe.skipIf(!hasChromium('the admin page browser test'))('flags admin page in Chromium', () => {
  let flags: FeatureFlags;
  let url: string;
  let close: () => Promise<void>;
  let browser: Browser;

  beforeAll(async () => {
    flags = featureFlags({
      env: false,
      source: {
        load: async () => ({
          flags: {
            'new-checkout': {
              description: '<img src=x onerror=alert(1)> the new flow',
              rules: [{ rollout: { percentage: 10 } }],
            },
            'dark-mode': {},
          },
        }),
        save: async () => {},
      },
    });
    await flags.ready();
    const app = express();
    // The browser cannot send a header on navigation: this admin trusts a cookie set by the test instead.
    app.use(
      express.json(),
      flagsAdmin(flags, { authorize: (req) => (req.header('cookie') ?? '').includes('admin=yes') }),
    );
    ({ url, close } = await listen(app));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('lists the flags, toggles one and sets a rollout, under its CSP, with no script injected', async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'admin', value: 'yes', url }]);
    const page = await context.newPage();
    const problems = problemsOf(page);

    await page.goto(`${url}/flags-admin`);
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await page.locator('td.key').allTextContents()).toEqual([
      'dark-mode',
      'new-checkout<img src=x onerror=alert(1)> the new flow',
    ]);

    await page.click('button[data-flag="dark-mode"][data-action="toggle"]');
    await page.waitForSelector('button[data-flag="dark-mode"].off');
    expect(flags.isEnabled('dark-mode')).toBe(false);
    await expect(page.locator('#status').textContent()).resolves.toBe('dark-mode: turned off');

    await page.fill('input[data-flag="new-checkout"]', '35');
    await page.click('button[data-flag="new-checkout"][data-action="rollout"]');
    await page.waitForSelector('#status:text-is("new-checkout: rollout set to 35 %")');
    expect(flags.get('new-checkout')?.rules[0]?.rollout?.percentage).toBe(35);

    await page.fill('input[data-flag="new-checkout"]', '250');
    await page.click('button[data-flag="new-checkout"][data-action="rollout"]');
    await page.waitForSelector('#status.error');
    expect(await page.locator('#status').textContent()).toContain('must be at most 100');
    expect(flags.get('new-checkout')?.rules[0]?.rollout?.percentage).toBe(35);

    expect(problems).toEqual([expect.stringContaining('400')]); // the refused PUT, logged by the browser
    await context.close();
  });

  it('is refused without authorization', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${url}/flags-admin/`);
    expect(response?.status()).toBe(403);
    await page.close();
  });
});
