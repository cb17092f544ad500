import express from 'express';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { createHealth } from '@bulwark/health';
import { rateLimiter } from '@bulwark/rate-limiter';
import { listen } from '@bulwark/test-servers';
import { hasChromium, launchChromium, problemsOf } from '@bulwark/test-servers/browser';
import { statusPage } from '../src/express.js';

describe.skipIf(!hasChromium('the status page browser test'))('status page in Chromium', () => {
  let url: string;
  let close: () => Promise<void>;
  let browser: Browser;
  // A breaker whose name would run as markup if the page used innerHTML.
  const hostile = '<img src=x onerror=alert(1)>';
  const breaker = circuitBreaker({ name: 'payments', window: consecutive(2) });
  const limiter = rateLimiter({ name: 'api', limit: 1, windowMs: 60_000 });
  const health = createHealth({ checks: [{ name: 'db', run: () => true }] });

  beforeAll(async () => {
    const app = express();
    app.use(
      statusPage({ authorize: (req) => (req.header('cookie') ?? '').includes('ops=yes'), health, intervalMs: 200 }),
    );
    app.get('/pay', async (_req, res) => {
      try {
        await breaker.execute(() => Promise.reject(new Error('payments down')));
      } catch {
        // counted by the breaker
      }
      limiter.consume('client');
      res.sendStatus(502);
    });
    ({ url, close } = await listen(app));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('shows a circuit opening live, with limits and health, under its CSP, rendering names as text', async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'ops', value: 'yes', url }]);
    const page = await context.newPage();
    const problems = problemsOf(page);

    await page.goto(`${url}/bulwark`);
    await page.waitForSelector('#connection.live');
    await page.waitForSelector('#health tbody td:text-is("db")');
    expect(await page.locator('#health-status').textContent()).toBe('pass');

    const hostileBreaker = circuitBreaker({ name: hostile });
    await hostileBreaker.execute(() => 1);
    await fetch(`${url}/pay`);
    await fetch(`${url}/pay`); // the second failure opens the circuit
    await page.waitForSelector('#breakers tr[data-name="payments"][data-state="open"]');
    await page.waitForSelector('#feed li');
    expect(await page.locator('#feed li').first().textContent()).toContain('circuit payments: closed → open');
    expect(await page.locator('#breakers tr[data-name="payments"] .badge').textContent()).toBe('open');
    await page.waitForSelector(`#breakers tr[data-name="${hostile.replace(/"/g, '\\"')}"]`);
    expect(await page.locator('#breakers td', { hasText: hostile }).count()).toBe(1); // shown as text
    await page.waitForSelector('#limiters tbody td:text-is("api")');
    expect(await page.locator('#limiters svg.spark polyline').count()).toBe(2);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('is refused without authorization', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${url}/bulwark`);
    expect(response?.status()).toBe(403);
    await page.close();
  });
});
