import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { compose, fallback, timeout } from '@bulwark/core';
import { type CallOutcome } from '@bulwark/core/internal';

describe('fallback', () => {
  it('substitutes a value for errors, sync or async', async () => {
    const policy = fallback('cached');
    await expect(policy.execute(() => Promise.reject(new Error('down')))).resolves.toBe('cached');
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).resolves.toBe('cached');
    await expect(policy.execute(() => 'fresh')).resolves.toBe('fresh');
  });

  it('calls a handler with the error and the outcome', async () => {
    const handler = vi.fn((error: unknown, _outcome: unknown) => `recovered from ${(error as Error).message}`);
    await expect(fallback(handler).execute(() => Promise.reject(new Error('boom')))).resolves.toBe(
      'recovered from boom',
    );
    expect(handler.mock.calls[0]![1]).toEqual({ kind: 'error', error: new Error('boom') });
  });

  it('replaces results that `when` selects, and rethrows errors it does not select', async () => {
    const when = (o: CallOutcome<unknown>) =>
      o.kind === 'value' ? (o.value as { status: number }).status === 404 : (o.error as Error).message !== 'fatal';
    const policy = fallback({ status: 200, items: [] }, { when });
    await expect(policy.execute(async () => ({ status: 404 }))).resolves.toEqual({ status: 200, items: [] });
    await expect(policy.execute(async () => ({ status: 201 }))).resolves.toEqual({ status: 201 });
    await expect(policy.execute(() => Promise.reject(new Error('fatal')))).rejects.toThrow('fatal');
    await expect(policy.execute(() => Promise.reject(new Error('flaky')))).resolves.toEqual({ status: 200, items: [] });
  });

  it("does not substitute for the caller's own abort by default", async () => {
    const caller = new AbortController();
    const p = compose(fallback('substitute'), timeout(10_000)).execute(() => new Promise(() => {}), caller.signal);
    caller.abort(new Error('caller gave up'));
    await expect(p).rejects.toThrow('caller gave up');
  });

  it('is used once when an aggressive timeout fires and the function rejects later (opossum#198)', async () => {
    const { VirtualClock } = await import('@bulwark/core/testing');
    const clock = new VirtualClock();
    const handler = vi.fn(() => 'fallback');
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const p = compose(fallback(handler), timeout(10, { clock, strategy: 'aggressive' })).execute(
        () => new Promise((_, reject) => clock.setTimeout(() => reject(new Error('late failure')), 50)),
      );
      const resolved = expect(p).resolves.toBe('fallback');
      await clock.advance(50);
      await resolved;
      await new Promise((r) => setImmediate(r));
      expect(handler).toHaveBeenCalledTimes(1);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('falls back on a timeout', async () => {
    const p = compose(fallback(-1), timeout(5, { strategy: 'aggressive' })).execute(() => new Promise(() => {}));
    await expect(p).resolves.toBe(-1);
  });

  it('tells listeners and diagnostics subscribers', async () => {
    const policy = fallback(0, { name: 'prices' });
    const listener = vi.fn();
    const subscriber = vi.fn();
    policy.onFallback(listener);
    diagnosticsChannel.subscribe('bulwark:core:fallback', subscriber);
    try {
      await policy.execute(() => Promise.reject(new Error('x')));
    } finally {
      diagnosticsChannel.unsubscribe('bulwark:core:fallback', subscriber);
    }
    expect(listener).toHaveBeenCalledWith({ name: 'prices', outcome: { kind: 'error', error: new Error('x') } });
    expect(subscriber).toHaveBeenCalledTimes(1);
  });

  it('rejects bad options naming the field', () => {
    expect(() => fallback(1, { when: 'always' as never })).toThrow(expect.objectContaining({ field: 'when' }));
    expect(() => fallback(1, { name: '' })).toThrow(expect.objectContaining({ field: 'name' }));
  });
});
