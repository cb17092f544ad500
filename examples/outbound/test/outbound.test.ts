import { expect, it } from 'vitest';
import { runScenario } from '../src/run.js';

it('every layer acts: retries (with Retry-After), a timeout, the breaker opening, refusing, and closing again', async () => {
  const lines = await runScenario(8, () => {});
  const text = lines.join('\n');
  expect(text).toMatch(/retry {5}attempt 2 in \d+ ms \(backoff\) after upstream answered 500/);
  expect(text).toMatch(/timeout {3}attempt cut off at 250 ms/);
  expect(text).toMatch(/retry {5}attempt 2 in 1000 ms \(retry-after\) after upstream answered 503/);
  expect(text).toContain('breaker   closed → open for 600 ms');
  expect(text).toMatch(/result {4}refused: circuit open|after an open circuit/);
  expect(text).toContain('breaker   open → half-open');
  expect(text).toContain('breaker   half-open → closed');
  expect(lines.at(-1)).toMatch(/circuit closed$/);
}, 20_000);
