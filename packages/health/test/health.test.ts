import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '@bulwark/core/testing';
import { BulwarkConfigError } from '@bulwark/core';
import {
  aggregateStatus,
  createHealth,
  normalizeStatus,
  type CheckOutcome,
  type HealthCheck,
  type HealthReport,
  type HealthStatus,
  type ProbeTag,
} from '@bulwark/health';

/** A check that resolves after `ms` on the virtual clock with `result`, counting its calls. */
function delayed(clock: VirtualClock, name: string, ms: number, extra: Partial<HealthCheck> = {}) {
  const check = {
    calls: 0,
    aborted: 0,
    def: {
      name,
      ...extra,
      run: (signal: AbortSignal) => {
        check.calls++;
        signal.addEventListener('abort', () => check.aborted++);
        return new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), ms));
      },
    } satisfies HealthCheck,
  };
  return check;
}

const isPromise = (v: unknown): v is Promise<unknown> => v instanceof Promise;

describe('status', () => {
  it('reads the draft aliases case-insensitively and nothing else', () => {
    expect(['pass', 'OK', 'Up', 'warn', 'FAIL', 'error', 'down'].map(normalizeStatus)).toEqual([
      'pass',
      'pass',
      'pass',
      'warn',
      'fail',
      'fail',
      'fail',
    ]);
    expect([undefined, 'degraded', 1, ''].map(normalizeStatus)).toEqual([undefined, undefined, undefined, undefined]);
  });

  // The aggregate, stated plainly, as the reference.
  const reference = (rs: readonly { status: HealthStatus; critical: boolean }[]): HealthStatus =>
    rs.some((r) => r.status === 'fail' && r.critical) ? 'fail' : rs.every((r) => r.status === 'pass') ? 'pass' : 'warn';

  const checkArb = fc.record({
    returns: fc.constantFrom(
      'true',
      'false',
      'undefined',
      'throw',
      'pass',
      'ok',
      'UP',
      'warn',
      'fail',
      'down',
      'Error',
      'bogus',
    ),
    critical: fc.boolean(),
    async: fc.boolean(),
    tags: fc.subarray(['live', 'ready', 'startup'] as ProbeTag[], { minLength: 1 }),
  });
  const expected: Record<string, HealthStatus> = {
    true: 'pass',
    false: 'fail',
    undefined: 'pass',
    throw: 'fail',
    pass: 'pass',
    ok: 'pass',
    UP: 'pass',
    warn: 'warn',
    fail: 'fail',
    down: 'fail',
    Error: 'fail',
    bogus: 'fail',
  };

  it('property: every probe reports the documented function of its checks, sync or async', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(checkArb, { maxLength: 8 }), async (specs) => {
        const checks: HealthCheck[] = specs.map((s, i) => ({
          name: `c${i}`,
          critical: s.critical,
          tags: s.tags,
          run: () => {
            const make = () => {
              if (s.returns === 'throw') throw new Error('boom');
              const fixed = { true: true, false: false, undefined: undefined } as Record<string, boolean | undefined>;
              return s.returns in fixed ? fixed[s.returns] : { status: s.returns };
            };
            // Async checks throw by rejecting.
            return s.async ? Promise.resolve().then(make) : make();
          },
        }));
        const health = createHealth({ checks });
        for (const probe of ['live', 'ready', 'startup', 'all'] as const) {
          const chosen = specs.map((s, i) => ({ ...s, i })).filter((s) => probe === 'all' || s.tags.includes(probe));
          const report = await health.report(probe);
          expect(report.results.map((r) => r.name)).toEqual(chosen.map((s) => `c${s.i}`));
          expect(report.results.map((r) => r.status)).toEqual(chosen.map((s) => expected[s.returns]));
          const want = reference(chosen.map((s) => ({ status: expected[s.returns]!, critical: s.critical })));
          expect(report.status).toBe(want);
          expect(aggregateStatus(report.results)).toBe(want);
          // A probe whose checks are all synchronous answers without a promise.
          expect(isPromise(health.report(probe))).toBe(chosen.some((s) => s.async));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('check runs', () => {
  it('a hung check reports fail/timeout when its timeout passes, aborts its signal, and is not called again while hung', async () => {
    const clock = new VirtualClock();
    const hung = delayed(clock, 'db', 10_000, { timeoutMs: 200 });
    const health = createHealth({ clock, checks: [hung.def] });
    const first = health.report('ready') as Promise<HealthReport>;
    let answered: HealthReport | undefined;
    void first.then((r) => (answered = r));
    await clock.advance(199);
    expect(answered).toBeUndefined();
    await clock.advance(1);
    expect(answered).toMatchObject({
      status: 'fail',
      results: [{ name: 'db', status: 'fail', output: 'timeout', timedOut: true }],
    });
    expect(hung.aborted).toBe(1);
    // Still hung: probes answer at once from the timeout result, without calling the dependency again.
    const again = health.report('ready');
    expect(isPromise(again)).toBe(false);
    expect((again as HealthReport).status).toBe('fail');
    expect(hung.calls).toBe(1);
    // Once the late answer arrives (and is discarded), the next probe runs the check again.
    await clock.advance(10_000);
    void health.report('ready');
    expect(hung.calls).toBe(2);
  });

  it('single-flight: concurrent probes share one run', async () => {
    const clock = new VirtualClock();
    const slow = delayed(clock, 'db', 50);
    const health = createHealth({ clock, checks: [slow.def] });
    const reports = Promise.all([health.report('ready'), health.report('all'), health.checkOne('db')]);
    await clock.advance(50);
    expect((await reports).length).toBe(3);
    expect(slow.calls).toBe(1);
  });

  it('cacheMs reuses a result synchronously until it expires', async () => {
    const clock = new VirtualClock();
    const cached = delayed(clock, 'db', 10, { cacheMs: 1000 });
    const health = createHealth({ clock, checks: [cached.def] });
    const first = health.report('ready');
    await clock.advance(10);
    await first;
    expect(isPromise(health.report('ready'))).toBe(false);
    await clock.advance(999); // the result is 999 ms old
    expect(isPromise(health.report('ready'))).toBe(false);
    expect(cached.calls).toBe(1);
    await clock.advance(1);
    expect(isPromise(health.report('ready'))).toBe(true);
    expect(cached.calls).toBe(2);
  });

  it('intervalMs runs the check in the background; probes read the latest result and never call it', async () => {
    const clock = new VirtualClock();
    let healthy = true;
    let calls = 0;
    const health = createHealth({
      clock,
      checks: [{ name: 'cache', intervalMs: 1000, critical: false, run: () => (calls++, healthy) }],
    });
    expect(calls).toBe(1); // the first run starts at once
    expect((health.report('ready') as HealthReport).status).toBe('pass');
    healthy = false;
    expect((health.report('ready') as HealthReport).status).toBe('pass');
    await clock.advance(1000);
    expect(calls).toBe(2);
    expect((health.report('ready') as HealthReport).status).toBe('warn'); // non-critical
    expect(calls).toBe(2);
    await health.close();
    await clock.advance(5000);
    expect(calls).toBe(2);
  });

  it('property: run count and each probe result match a reference model of cache, single-flight and timeouts', async () => {
    const T = 100;
    const action = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('probe' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.integer({ min: 0, max: 25 }).map((n) => n * 10 + 5),
          { minLength: 1, maxLength: 20 },
        ),
        fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
        fc.array(action, { maxLength: 40 }),
        async (durations, cacheMs, actions) => {
          const clock = new VirtualClock();
          let calls = 0;
          const health = createHealth({
            clock,
            checks: [
              {
                name: 'dep',
                timeoutMs: T,
                cacheMs,
                run: () => {
                  const d = durations[calls++ % durations.length]!;
                  return new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), d));
                },
              },
            ],
          });
          // Reference: runs as [start, duration]; the answer of each probe as 'pass' | 'fail'.
          let now = 0;
          let modelCalls = 0;
          let current: { start: number; dur: number } | undefined;
          let last: { at: number; status: 'pass' | 'fail'; settlesAt: number } | undefined;
          const settle = (until: number) => {
            if (current !== undefined && current.start + Math.min(current.dur, T) <= until) {
              const timedOut = current.dur > T;
              last = {
                at: current.start + Math.min(current.dur, T),
                status: timedOut ? 'fail' : 'pass',
                settlesAt: current.start + current.dur,
              };
              current = undefined;
            }
          };
          const expectedAnswers: ('pass' | 'fail' | { run: number })[] = [];
          const runs: { start: number; dur: number }[] = [];
          const got: (CheckOutcome | Promise<CheckOutcome>)[] = [];
          for (const a of actions) {
            if (a.kind === 'advance') {
              await clock.advance(a.ms);
              now += a.ms;
              settle(now);
              continue;
            }
            got.push(health.checkOne('dep')!);
            if (current !== undefined) expectedAnswers.push({ run: runs.length - 1 });
            else if (
              last !== undefined &&
              (last.settlesAt > now || (cacheMs !== undefined && now - last.at < cacheMs))
            ) {
              expectedAnswers.push(last.status);
            } else {
              current = { start: now, dur: durations[modelCalls++ % durations.length]! };
              runs.push(current);
              expectedAnswers.push({ run: runs.length - 1 });
            }
          }
          await clock.runAll();
          expect(calls).toBe(modelCalls);
          const answers = await Promise.all(got.map((g) => Promise.resolve(g)));
          expect(answers.map((r) => r.status)).toEqual(
            expectedAnswers.map((e) => (typeof e === 'string' ? e : runs[e.run]!.dur > T ? 'fail' : 'pass')),
          );
          // Answers known at probe time come back as values, runs as promises.
          expect(got.map(isPromise)).toEqual(expectedAnswers.map((e) => typeof e !== 'string'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a probe of unchanged cached results reuses its last report; uncached checks run once per probe', async () => {
    const clock = new VirtualClock();
    let syncCalls = 0;
    const health = createHealth({
      clock,
      checks: [
        { name: 'cached', cacheMs: 1000, run: () => true },
        { name: 'plain', tags: ['live'], run: () => (syncCalls++, true) },
      ],
    });
    const first = health.report('ready') as HealthReport;
    expect(health.report('ready')).toBe(first); // nothing allocated for the second probe
    void health.report('live');
    void health.report('live');
    expect(syncCalls).toBe(2);
    await clock.advance(1000); // expired: a new run, a new report
    const second = health.report('ready') as HealthReport;
    expect(second).not.toBe(first);
    expect(health.report('ready')).toBe(second);
    health.beginShutdown(); // a reused report must not hide shutdown
    expect((health.report('ready') as HealthReport).status).toBe('fail');
  });

  it('reports every finished run to listeners and on bulwark:health:check', async () => {
    const seen: CheckOutcome[] = [];
    const published: unknown[] = [];
    const onMessage = (m: unknown) => published.push(m);
    diagnosticsChannel.subscribe('bulwark:health:check', onMessage);
    try {
      const health = createHealth({
        checks: [{ name: 'a', run: () => ({ status: 'warn', observedValue: 3, observedUnit: 'ms' }) }],
      });
      const off = health.onCheck((o) => seen.push(o));
      await health.report('all');
      off();
      await health.report('all');
      expect(seen).toMatchObject([
        { name: 'a', status: 'warn', critical: true, observedValue: 3, observedUnit: 'ms', timedOut: false },
      ]);
      expect(published).toHaveLength(2);
    } finally {
      diagnosticsChannel.unsubscribe('bulwark:health:check', onMessage);
    }
  });

  it('exclude leaves checks out without running them and names unknown ones', async () => {
    let ran = 0;
    const health = createHealth({
      checks: [
        { name: 'a', run: () => (ran++, false) },
        { name: 'b', run: () => true },
      ],
    });
    const report = await health.report('ready', { exclude: ['a', 'nope', 'nope'] });
    expect(report).toMatchObject({ status: 'pass', excluded: ['a'], unknownExcludes: ['nope'] });
    expect(ran).toBe(0);
  });

  it('shutdown fails readiness and the document but not liveness or startup', async () => {
    const health = createHealth({ checks: [{ name: 'a', tags: ['live', 'ready', 'startup'], run: () => true }] });
    health.beginShutdown();
    expect(await health.report('ready')).toMatchObject({ status: 'fail', shuttingDown: true });
    expect((await health.report('all')).status).toBe('fail');
    expect(await health.report('live')).toMatchObject({ status: 'pass', shuttingDown: false });
    expect((await health.report('startup')).status).toBe('pass');
  });
});

describe('bad config', () => {
  const bad = (options: unknown, field: RegExp) => {
    const make = () => createHealth(options as never);
    expect(make).toThrow(BulwarkConfigError);
    expect(make).toThrow(field);
  };
  const yes = (): boolean => true;
  it.each([
    [{ checks: [{ name: 'has space', run: yes }] }, /"checks\.0\.name"/],
    [{ checks: [{ name: 'a', run: yes, measurement: 'x:y' }] }, /measurement/],
    [{ checks: [{ name: 'a', run: yes, cacheMs: 1, intervalMs: 1 }] }, /intervalMs.*not both/s],
    [{ checks: [{ name: 'a', run: yes, tags: [] }] }, /tags/],
    [{ checks: [{ name: 'a', run: yes, tags: ['alive'] }] }, /tags/],
    [{ checks: [{ name: 'a', run: yes, timeoutMs: 0 }] }, /timeoutMs/],
    [{ checks: [{ name: 'a' }] }, /run/],
    [{ checks: [{ name: 'a', run: yes, critcal: false }] }, /critcal.*unknown option/s],
    [
      {
        checks: [
          { name: 'a', run: yes },
          { name: 'a', run: yes },
        ],
      },
      /duplicate check name "a"/,
    ],
    [{ version: 1 }, /version/],
  ])('%j is refused naming the problem', (options, field) => bad(options, field));

  it('names a bad check field from the options object down, as the README says', () => {
    expect(() =>
      createHealth({
        checks: [
          { name: 'ok', run: yes },
          { name: 'has space', run: yes },
        ],
      }),
    ).toThrow(expect.objectContaining({ field: 'checks.1.name' }));
  });
});

describe('checks added and removed after createHealth', () => {
  it('validates an added check like createHealth, refuses a duplicate name, and reports the new set', async () => {
    const health = createHealth({ checks: [{ name: 'db', run: () => true }] });
    expect(() => health.addCheck({ name: '', run: () => true })).toThrow(
      expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: 'name' }),
    );
    expect(() => health.addCheck({ name: 'db', run: () => true })).toThrow(/duplicate check name "db"/);
    expect(health.checkNames()).toEqual(['db']);
    health.addCheck({ name: 'cache', tags: ['live'], run: () => false, critical: false });
    expect(health.checkNames()).toEqual(['db', 'cache']);
    expect(health.checkNames('live')).toEqual(['cache']);
    expect((await health.report('all')).status).toBe('warn');
    expect(health.removeCheck('cache')).toBe(true);
    expect((await health.report('all')).status).toBe('pass');
  });
});
