import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { channelName } from '@bulwark/core';
import { bulwarkChannel, Emitter } from '@bulwark/core/internal';

describe('Emitter', () => {
  it('adds and removes typed listeners; unsubscribing twice is harmless', () => {
    const e = new Emitter<number>();
    const a = vi.fn();
    const b = vi.fn();
    const offA = e.on(a);
    e.on(b);
    e.emit(1);
    offA();
    offA();
    e.emit(2);
    expect(a.mock.calls).toEqual([[1]]);
    expect(b.mock.calls).toEqual([[1], [2]]);
    expect(e.size).toBe(1);
  });

  it('lets a listener unsubscribe another during an emit without skipping anyone in that emit', () => {
    const e = new Emitter<string>();
    const calls: string[] = [];
    let offB = () => {};
    e.on(() => {
      calls.push('a');
      offB();
    });
    offB = e.on(() => calls.push('b'));
    e.emit('x');
    e.emit('y');
    expect(calls).toEqual(['a', 'b', 'a']);
  });

  it('keeps going past a throwing listener and rethrows its error on a later microtask', () => {
    const queued: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((cb) => void queued.push(cb));
    try {
      const e = new Emitter<void>();
      const after = vi.fn();
      e.on(() => {
        throw new Error('listener bug');
      });
      e.on(after);
      e.emit();
      expect(after).toHaveBeenCalled();
      expect(queued).toHaveLength(1);
      expect(() => queued[0]!()).toThrow('listener bug');
    } finally {
      spy.mockRestore();
    }
  });

  it('is active only while someone listens or subscribes, and publishes to subscribers', () => {
    const channel = bulwarkChannel<{ n: number }>('test', 'emitter-active');
    expect(channel.name).toBe(channelName('test', 'emitter-active'));
    const e = new Emitter(channel);
    expect(e.active).toBe(false);
    const subscriber = vi.fn();
    diagnosticsChannel.subscribe('bulwark:test:emitter-active', subscriber);
    expect(e.active).toBe(true);
    e.emit({ n: 1 });
    diagnosticsChannel.unsubscribe('bulwark:test:emitter-active', subscriber);
    expect(e.active).toBe(false);
    expect(subscriber).toHaveBeenCalledWith({ n: 1 }, 'bulwark:test:emitter-active');
  });
});
