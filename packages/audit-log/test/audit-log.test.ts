import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBulwarkConfigError } from '@bulwark/core';
import { createAuditLog, type AuditLog } from '../src/audit-log.js';
import type { AuditRecord } from '../src/audit-record.js';
import type { AuditSink } from '../src/audit-sink.js';
import { memoryCheckpoints } from '../src/checkpoint-store.js';
import { memorySink } from '../src/memory-sink.js';
import { verifyLog } from '../src/verify-log.js';
import { collect, testSigner } from './helpers.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const logs: AuditLog[] = [];
function newLog(options: Partial<Parameters<typeof createAuditLog>[0]> = {}) {
  const sink = memorySink();
  const log = createAuditLog({
    app: { id: 'orders', version: '1.4.2' },
    hostname: 'web-1',
    sink,
    now: () => T0,
    ...options,
  });
  logs.push(log);
  return { log, sink: (options.sink as ReturnType<typeof memorySink> | undefined) ?? sink };
}
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  vi.useRealTimers();
});

describe('records', () => {
  it('writes OWASP-shaped JSON lines: seq, ts with offset, app, host, event with arguments, level', () => {
    const { log, sink } = newLog();
    expect(
      log.record({ event: 'authn_login_fail_max', args: ['joebob1', 3], user: 'joebob1', sourceIp: '203.0.113.7' }),
    ).toBe(0);
    expect(
      log.record({ event: 'order_refunded', level: 'WARN', action: 'refund', object: 'order:42', result: 'success' }),
    ).toBe(1);
    expect(sink.stored[0]).toBe(
      '{"seq":0,"ts":"2026-12-04T12:00:00.000+00:00","appid":"orders","appversion":"1.4.2","hostname":"web-1","event":"authn_login_fail_max:joebob1,3","level":"WARN","source_ip":"203.0.113.7","userid":"joebob1"}',
    );
    expect(sink.records()[1]).toMatchObject({
      seq: 1,
      event: 'order_refunded',
      level: 'WARN',
      action: 'refund',
      object: 'order:42',
      result: 'success',
    });
  });

  it('takes each level from the vocabulary, INFO for its own events, and the caller’s when given', () => {
    const { log, sink } = newLog();
    log.record({ event: 'authz_fail' });
    log.record({ event: 'authn_login_success' });
    log.record({ event: 'cart_checkout' });
    log.record({ event: 'authn_login_success', level: 'CRITICAL' });
    expect(sink.records().map((r) => r.level)).toEqual(['CRITICAL', 'INFO', 'INFO', 'CRITICAL']);
  });

  it('writes an event time, request fields and a hashed session, never the session id itself', () => {
    const { log, sink } = newLog({ sessionKey: 'a-key-of-sixteen-chars' });
    log.record({
      event: 'session_created',
      eventTs: new Date(T0 - 1000),
      requestId: 'req-1',
      session: 'sess-secret-1234',
      method: 'POST',
      uri: '/login',
      userAgent: 'curl/8',
      status: 200,
    });
    const line = sink.stored[0]!;
    expect(line).not.toContain('sess-secret-1234');
    expect(sink.records()[0]).toMatchObject({
      event_ts: '2026-12-04T11:59:59.000+00:00',
      request_id: 'req-1',
      request_method: 'POST',
      request_uri: '/login',
      useragent: 'curl/8',
      status: 200,
      session: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    log.record({ event: 'session_renewed', session: 'sess-secret-1234' });
    log.record({ event: 'session_renewed', session: 'other' });
    const [a, b, c] = sink.records().map((r) => r.session);
    expect(b).toBe(a); // the same session correlates...
    expect(c).not.toBe(a); // ...and different ones do not
  });
});

describe('validation: a bad record is written, never lost, never thrown', () => {
  it.each([
    ['an unknown event shape', { event: 'Not Snake Case' }],
    ['a wrong type', { event: 'authn_login_fail', status: 'four hundred' }],
    ['an unknown field', { event: 'authn_login_fail', password: 'hunter2' }],
    ['null', null],
    ['a number', 42],
    ['a string', 'authn_login_fail'],
  ])('%s becomes audit_invalid with the problem and the redacted input', (_name, input) => {
    const { log, sink } = newLog();
    expect(() => log.record(input as never)).not.toThrow();
    const [record] = sink.records();
    expect(record).toMatchObject({ seq: 0, event: 'audit_invalid', level: 'WARN' });
    expect(record!.description).toMatch(/\S/);
    expect(sink.stored[0]).not.toContain('hunter2');
    expect(log.stats()).toMatchObject({ written: 1, invalid: 1 });
  });

  it('survives cyclic data, throwing getters, bigint, functions and symbols', () => {
    const { log, sink } = newLog();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get: () => {
        throw new Error('no');
      },
    });
    log.record({
      event: 'thing_happened',
      data: { cyclic, hostile, big: 10n, fn: () => 1, sym: Symbol('s'), when: new Date(T0) },
    });
    expect(sink.records()[0]!.data).toEqual({
      cyclic: { name: 'a', self: '[Circular]' },
      hostile: '[Unreadable]',
      big: '10',
      fn: '[Function]',
      sym: 'Symbol(s)',
      when: '2026-12-04T12:00:00.000Z',
    });
  });
});

describe('never-log rules', () => {
  it('redacts secrets by key name at any depth, whatever the case or separator', () => {
    const { log, sink } = newLog({ redact: { keys: ['internalNote', /^x-tenant-/] } });
    log.record({
      event: 'user_updated',
      data: {
        Password: 'p1',
        deep: { x: { y: { z: { password: 'p2' } } } }, // pino's `*.password` misses this depth
        headers: {
          Authorization: 'Bearer abc.def.ghi',
          cookie: 'sid=1',
          'Set-Cookie': 'a=b',
          'x-tenant-secret-id': 't',
        },
        DB_PASSWORD: 'p3',
        apiKey: 'k1',
        api_key: 'k2',
        client_secret: 's1',
        refresh_token: 'r1',
        connectionString: 'postgres://u:p@h/db',
        card_number: '4111111111111111',
        cvv: '123',
        sessionId: 'sid-2',
        list: [{ token: 't1' }, { ok: 'kept' }],
        internalNote: 'n1',
        username: 'kept-too',
      },
    });
    const line = sink.stored[0]!;
    for (const secret of [
      'p1',
      'p2',
      'p3',
      'abc.def.ghi',
      'sid=1',
      'a=b',
      'k1',
      'k2',
      's1',
      'r1',
      'u:p@',
      '4111111111111111',
      '"123"',
      'sid-2',
      't1',
      'n1',
      '"t"',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('kept-too');
    expect(line).toContain('"ok":"kept"');
    expect(sink.records()[0]!.data).toMatchObject({
      Password: '[REDACTED]',
      deep: { x: { y: { z: { password: '[REDACTED]' } } } },
    });
  });

  it('removes credentials from free text: URL passwords, bearer tokens, card numbers that pass Luhn', () => {
    const { log, sink } = newLog();
    log.record({
      event: 'sys_monitor_disabled',
      description: 'connect redis://app:s3cr3t@cache:6379 with Bearer eyJhbGciOiJIUzI1NiJ9.x.y',
      reason: 'card 4111 1111 1111 1111 charged; order 1234567890123 kept',
    });
    const record = sink.records()[0]!;
    expect(record.description).toBe('connect redis://app:[REDACTED]@cache:6379 with Bearer [REDACTED]');
    expect(record.reason).toBe('card [REDACTED] charged; order 1234567890123 kept');
  });

  it('escapes CR, LF, NEL, LS and PS so no value can forge a line', () => {
    const { log, sink } = newLog();
    const forged = 'x\r\n{"seq":1,"event":"authn_login_success"}\u2028\u2029\u0085\u001b[31m';
    log.record({ event: 'authn_login_fail', user: forged, data: { [forged]: forged } });
    const line = sink.stored[0]!;
    for (const c of ['\r', '\n', '\u2028', '\u2029', '\u0085', '\u001b']) expect(line).not.toContain(c);
    expect(sink.records()[0]!.userid).toBe(forged);
  });

  it('caps string lengths without splitting a surrogate pair, and bounds depth and breadth', () => {
    const { log, sink } = newLog({ redact: { maxFieldLength: 20, maxDepth: 3, maxEntries: 2 } });
    log.record({
      event: 'thing_happened',
      description: 'a'.repeat(18) + '😀😀😀',
      data: { a: { b: { c: { d: 1 } } }, x: 1, y: 2 },
    });
    const record = sink.records()[0]!;
    expect(record.description).toBe('a'.repeat(18) + '…');
    expect(record.data).toEqual({ a: { b: { c: '[Depth]' } }, x: 1, '…': '1 more' });
  });

  it('keeps a __proto__ key as data, not as a prototype', () => {
    const { log, sink } = newLog();
    log.record({
      event: 'thing_happened',
      data: JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>,
    });
    expect(sink.stored[0]).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: any data gives one parseable line without raw line breaks or sensitive values', () => {
    const secret = 'S3CRET-VALUE';
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, text) => {
        const { log, sink } = newLog();
        log.record({
          event: 'thing_happened',
          description: text,
          data: { value, password: secret, nested: { token: secret } },
        });
        const line = sink.stored[0]!;
        expect(line).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
        expect(line).not.toContain(secret);
        expect(JSON.parse(line)).toMatchObject({ seq: 0, event: 'thing_happened' });
        void log.close();
        logs.pop();
      }),
      { numRuns: 200 },
    );
  });
});

describe('bad configuration', () => {
  it.each([
    ['no sink', { app: 'a' }, 'sink'],
    ['an empty app id', { app: '', sink: memorySink() }, 'app'],
    ['a signer without a checkpoint store', { app: 'a', sink: memorySink(), signer: testSigner() }, 'checkpoints'],
    ['an unknown option', { app: 'a', sink: memorySink(), sinks: [] }, 'sinks'],
    ['a short session key', { app: 'a', sink: memorySink(), sessionKey: 'short' }, 'sessionKey'],
    ['a checkpoint interval below 1 s', { app: 'a', sink: memorySink(), checkpointEveryMs: 10 }, 'checkpointEveryMs'],
  ])('%s throws BulwarkConfigError naming the field', (_name, options, field) => {
    let error: unknown;
    try {
      createAuditLog(options as never);
    } catch (e) {
      error = e;
    }
    expect(isBulwarkConfigError(error)).toBe(true);
    expect((error as { field: string }).field).toBe(field);
  });
});

describe('drops are counted, reported and recorded, never silent', () => {
  function fullSink(): AuditSink & { stored: string[]; isFull: boolean } {
    const inner = memorySink();
    const sink: AuditSink & { stored: string[]; isFull: boolean } = {
      ...inner,
      stored: inner.stored as string[],
      isFull: false,
      get full(): boolean {
        return sink.isFull;
      },
    };
    return sink;
  }

  it('refuses at admission while the sink is full, then writes audit_dropped with the count', () => {
    const sink = fullSink();
    const { log } = newLog({ sink });
    const drops: number[] = [];
    log.onDrop((e) => drops.push(e.count));
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    log.record({ event: 'a_happened' });
    sink.isFull = true;
    expect(log.record({ event: 'b_happened' })).toBeUndefined();
    expect(log.record({ event: 'c_happened' })).toBeUndefined();
    sink.isFull = false;
    log.record({ event: 'd_happened' });
    expect(drops).toEqual([1, 2]);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0]![1]).toMatchObject({ code: 'BULWARK_AUDIT_DROPPED' });
    warning.mockRestore();
    const records = sink.stored.map((l) => JSON.parse(l) as AuditRecord);
    expect(records.map((r) => [r.seq, r.event])).toEqual([
      [0, 'a_happened'],
      [1, 'audit_dropped:2'],
      [2, 'd_happened'],
    ]);
    expect(records[1]!.level).toBe('CRITICAL');
    expect(log.stats()).toMatchObject({ written: 3, dropped: 2 });
  });

  it('counts records after close as dropped', async () => {
    const { log } = newLog();
    await log.close();
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    log.record({ event: 'late_event' });
    warning.mockRestore();
    expect(log.stats().dropped).toBe(1);
  });
});

describe('checkpoints', () => {
  it('signs every N records, on demand and at close, each verifying against the records', async () => {
    const signer = testSigner();
    const checkpoints = memoryCheckpoints();
    const { log, sink } = newLog({ signer, checkpoints, checkpointEveryRecords: 3, origin: 'example.com/orders' });
    const seen: number[] = [];
    log.onCheckpoint((e) => seen.push(e.checkpoint.size));
    for (let i = 0; i < 7; i++) log.record({ event: 'thing_happened', args: [i] });
    await log.flush();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([3, 6]);
    await log.close();
    expect(seen).toEqual([3, 6, 7]);
    const result = await verifyLog({
      lines: sink.stored,
      checkpoints: checkpoints.stored,
      publicKey: signer.verifierKey,
    });
    expect(result).toMatchObject({ ok: true, records: 7, checkpoints: 3, uncovered: 0 });
    expect(result.latest?.origin).toBe('example.com/orders');
  });

  it('signs every T ms even when nothing was recorded (virtual time)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const checkpoints = memoryCheckpoints();
    const { log } = newLog({ signer: testSigner(), checkpoints, checkpointEveryMs: 5000, now: () => Date.now() });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(checkpoints.stored).toHaveLength(3);
    expect(checkpoints.stored.every((n) => n.split('\n')[1] === '0')).toBe(true);
    await log.close();
  });

  it('refuses a signer with a sink that does not store exact bytes', () => {
    expect(() =>
      createAuditLog({
        app: 'a',
        sink: { ...memorySink(), exact: false, name: 'pino' },
        signer: testSigner(),
        checkpoints: memoryCheckpoints(),
      }),
    ).toThrow(/re-serialises/);
  });
});

describe('query', () => {
  it('filters by time, severity, event type, actor and limit; critical() is severity CRITICAL', async () => {
    let now = T0;
    const { log } = newLog({ now: () => now });
    log.record({ event: 'authn_login_success', args: ['ann'], user: 'ann' });
    now += 1000;
    log.record({ event: 'authn_login_fail', args: ['bob'], user: 'bob' });
    now += 1000;
    log.record({ event: 'authz_fail', args: ['bob', 'admin'], user: 'bob' });
    now += 1000;
    log.record({ event: 'authn_login_fail', args: ['ann'], user: 'ann' });
    const seqs = async (q: Parameters<AuditLog['query']>[0]) => (await collect(log.query(q))).map((r) => r.seq);
    expect(await seqs({})).toEqual([0, 1, 2, 3]);
    expect(await seqs({ since: T0 + 1000, until: new Date(T0 + 3000) })).toEqual([1, 2]);
    expect(await seqs({ severity: 'WARN' })).toEqual([1, 2, 3]);
    expect(await seqs({ event: 'authn_login_fail' })).toEqual([1, 3]);
    expect(await seqs({ event: ['authz_fail', 'authn_login_success'] })).toEqual([0, 2]);
    expect(await seqs({ actor: 'ann', severity: 'WARN' })).toEqual([3]);
    expect(await seqs({ limit: 2 })).toEqual([0, 1]);
    expect((await collect(log.critical())).map((r) => r.event)).toEqual(['authz_fail:bob,admin']);
  });

  it('property: query returns exactly what filtering the recorded model gives', async () => {
    const levels = ['INFO', 'WARN', 'CRITICAL'] as const;
    const events = ['authn_login_fail', 'authz_fail', 'cart_checkout'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            event: fc.constantFrom(...events),
            level: fc.constantFrom(...levels),
            user: fc.constantFrom('ann', 'bob'),
            dt: fc.nat(5000),
          }),
          { maxLength: 30 },
        ),
        fc.record({
          severity: fc.option(fc.constantFrom(...levels), { nil: undefined }),
          event: fc.option(fc.constantFrom(...events), { nil: undefined }),
          actor: fc.option(fc.constantFrom('ann', 'bob'), { nil: undefined }),
          since: fc.option(fc.nat(60_000), { nil: undefined }),
          limit: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
        }),
        async (input, q) => {
          let now = T0;
          const { log } = newLog({ now: () => now });
          const model: { seq: number; t: number; level: string; event: string; user: string }[] = [];
          input.forEach((e, seq) => {
            now += e.dt;
            log.record({ event: e.event, level: e.level, user: e.user });
            model.push({ seq, t: now, level: e.level, event: e.event, user: e.user });
          });
          const rank = { INFO: 0, WARN: 1, CRITICAL: 2 } as Record<string, number>;
          const expected = model
            .filter((m) => q.severity === undefined || rank[m.level]! >= rank[q.severity]!)
            .filter((m) => q.event === undefined || m.event === q.event)
            .filter((m) => q.actor === undefined || m.user === q.actor)
            .filter((m) => q.since === undefined || m.t >= T0 + q.since)
            .slice(0, q.limit ?? Infinity)
            .map((m) => m.seq);
          const got = (await collect(log.query({ ...q, since: q.since === undefined ? undefined : T0 + q.since }))).map(
            (r) => r.seq,
          );
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('process exit', () => {
  it('many open logs share one exit listener (no MaxListenersExceededWarning)', async () => {
    const before = process.listenerCount('exit');
    const many = Array.from({ length: 20 }, () => createAuditLog({ app: 'a', sink: memorySink() }));
    expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
    for (const log of many) await log.close();
  });
});
