import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

// Pages tested in a real browser: Debian's chromium driven by playwright-core (no browser download). CI installs
// chromium (.ci/run); elsewhere, without it, the suites are skipped and say so.

/** Where Chromium is (`CHROMIUM_PATH` overrides). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * True when Chromium is installed. Without it: under `CI=true` this throws (a browser suite must not be skipped in
 * CI); elsewhere it prints a loud warning naming the suite, which `describe.skipIf(!hasChromium(…))` then skips.
 */
export function hasChromium(suite: string): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI === 'true') throw new Error(`${suite} needs Chromium at ${chromiumPath} (CI=true)`);
  console.warn(`\n!!! SKIPPING ${suite}: no Chromium at ${chromiumPath} (apt-get install chromium) !!!\n`);
  return false;
}

/** Starts headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
}

/**
 * Collects what a page should never produce: console errors (a CSP violation is reported there), uncaught
 * exceptions, and dialogs (an injected `alert()`), which it dismisses.
 */
export function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return problems;
}
