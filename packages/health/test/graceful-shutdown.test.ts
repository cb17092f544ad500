import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BulwarkConfigError } from '@bulwark/core';
import { createHealth, gracefulShutdown, type ShutdownEvent } from '@bulwark/health';

const fixture = fileURLToPath(new URL('./fixtures/shutdown-app.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface App {
  child: ChildProcess;
  port: number;
  /** The shutdown steps printed so far. */
  steps(): ShutdownEvent[];
  /** Resolves when the app has printed a line starting with `prefix` `count` times. */
  printed(prefix: string, count?: number): Promise<void>;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function startApp(framework: string, options: object): Promise<App> {
  const child = spawn(process.execPath, ['--conditions=@bulwark/source', '--import', 'tsx', fixture, framework], {
    cwd: packageDir,
    env: { ...process.env, SHUTDOWN_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  let waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  const printed = (prefix: string, count = 1) =>
    new Promise<void>((resolve) => {
      const check = () => (lines.filter((l) => l.startsWith(prefix)).length >= count ? resolve() : waiters.push(check));
      check();
    });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([
    printed('listening'),
    exited.then((code) => Promise.reject(new Error(`fixture exited ${code}`))),
  ]);
  const port = Number(lines.find((l) => l.startsWith('listening'))!.split(' ')[1]);
  const steps = () => lines.filter((l) => l.startsWith('step ')).map((l) => JSON.parse(l.slice(5)) as ShutdownEvent);
  return { child, port, steps, printed, exited };
}

/** A GET with its own agent; resolves with status, body and the Connection header. */
function get(port: number, path: string, agent: Agent | false = false) {
  return new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    })
      .on('error', reject)
      .end();
  });
}

describe.each(['node', 'express', 'fastify', 'koa'])(
  'graceful shutdown of a %s service (child process)',
  (framework) => {
    it('SIGTERM: readiness fails at once, in-flight requests finish, idle keep-alive does not hold the drain, hooks are cut at their timeout, exit 0', async () => {
      const app = await startApp(framework, { readinessDelayMs: 1000, drainTimeoutMs: 3000, forceExitMs: 8000 });
      // An idle keep-alive connection (the server keeps idle sockets for 60 s).
      const keepAlive = new Agent({ keepAlive: true });
      expect((await get(app.port, '/readyz', keepAlive)).status).toBe(200);
      // In-flight requests on keep-alive connections: once answered, their sockets must not stay open either.
      const busy = new Agent({ keepAlive: true });
      const slow = [1, 2, 3].map(() => get(app.port, '/slow?ms=1500', busy));
      await app.printed('slow', 3);

      app.child.kill('SIGTERM');
      await app.printed('step {"step":"begin"');
      // During the readiness delay the service still answers, and says it is not ready.
      expect((await get(app.port, '/readyz')).status).toBe(503);

      expect(await Promise.all(slow)).toEqual(
        [1, 2, 3].map(() => ({ status: 200, body: 'done', connection: 'close' })),
      );
      expect(await app.exited).toBe(0);
      keepAlive.destroy();
      busy.destroy();
      expect(app.steps().map((s) => [s.step, s.name, s.ok])).toEqual([
        ['begin', 'SIGTERM', undefined],
        ['delay', undefined, true],
        ['drain', undefined, true], // a held keep-alive socket would have run the drain into its 3 s timeout
        ['hook', 'flush-logs', true],
        ['hook', 'hanging-pool', false],
        ['exit', undefined, true],
      ]);
      expect(app.steps().find((s) => s.name === 'hanging-pool')!.error).toMatch(/timed out after 200 ms/);
      expect(app.steps().at(-1)!.code).toBe(0);
    });
  },
);

it('forceExitMs: a shutdown that cannot finish in time exits 1', async () => {
  const app = await startApp('node', { forceExitMs: 300, hangingHookMs: 60_000 });
  app.child.kill('SIGTERM');
  expect(await app.exited).toBe(1);
  expect(app.steps().map((s) => s.step)).toEqual(['begin', 'drain', 'hook', 'exit']);
  expect(app.steps().at(-1)).toMatchObject({ step: 'exit', code: 1, ok: false });
});

it('a second signal while shutting down exits 1 at once', async () => {
  const app = await startApp('node', { hangingHookMs: 60_000, forceExitMs: 60_000 });
  app.child.kill('SIGTERM');
  await app.printed('step {"step":"hook"');
  app.child.kill('SIGINT');
  expect(await app.exited).toBe(1);
});

describe('in process', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('shutdown() without signals: same sequence, one run for many calls, exit not called with exit: false', async () => {
    server = createServer((_req, res) => res.end('x'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const health = createHealth();
    const before = process.listenerCount('SIGTERM');
    const shutdown = gracefulShutdown([server], {
      health,
      signals: [],
      exit: false,
      hooks: [{ name: 'h', run: () => undefined }],
    });
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const [a, b] = [shutdown.shutdown('test'), shutdown.shutdown('again')];
    expect(a).toBe(b);
    expect(shutdown.shuttingDown).toBe(true);
    expect(health.shuttingDown).toBe(true);
    const report = await a;
    expect(report.code).toBe(0);
    expect(report.steps.map((s) => [s.step, s.name ?? null])).toEqual([
      ['begin', 'test'],
      ['drain', null],
      ['hook', 'h'],
      ['exit', null],
    ]);
    expect(server.listening).toBe(false);
    const port = (server.address() as AddressInfo | null)?.port;
    expect(port).toBeUndefined();
  });

  it('dispose() removes its signal handlers', () => {
    const before = process.listenerCount('SIGTERM');
    const shutdown = gracefulShutdown([], { exit: false });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    shutdown.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it.each([
    [[{}], {}, /servers/],
    [[], { signals: ['TERM'] }, /signals/],
    [[], { drainTimeoutMs: -1 }, /drainTimeoutMs/],
    [[], { hooks: [{ name: 'x' }] }, /hooks\.0\.run/],
    [[], { exit: true }, /exit/],
  ])('bad config %j %j is refused naming the field', (servers, options, field) => {
    const make = () => gracefulShutdown(servers as never, options as never);
    expect(make).toThrow(BulwarkConfigError);
    expect(make).toThrow(field);
  });
});
