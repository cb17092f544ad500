import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { runAfter, type RawResponse } from '../src/response.js';

function fakeResponse(state: { closed: boolean; finished: boolean; status: number }): RawResponse & EventEmitter {
  const res = new EventEmitter();
  Object.defineProperties(res, {
    statusCode: { get: () => state.status },
    writableFinished: { get: () => state.finished },
    closed: { get: () => state.closed },
    setHeader: { value: vi.fn() },
  });
  return res as RawResponse & EventEmitter;
}

describe('runAfter', () => {
  it('runs once on close, with the status and whether the response finished', () => {
    const state = { closed: false, finished: false, status: 200 };
    const res = fakeResponse(state);
    const after = vi.fn();
    runAfter(res, after);
    expect(after).not.toHaveBeenCalled();
    state.status = 204;
    state.finished = true;
    res.emit('close');
    res.emit('close');
    expect(after).toHaveBeenCalledExactlyOnceWith(204, false);
  });

  it('runs at once when the response already closed (an async guard outlived the client)', () => {
    const res = fakeResponse({ closed: true, finished: false, status: 200 });
    const after = vi.fn();
    runAfter(res, after);
    expect(after).toHaveBeenCalledExactlyOnceWith(200, true);
    res.emit('close');
    expect(after).toHaveBeenCalledTimes(1);
  });
});
