import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, sharedRedis, testPrefix } from '@bulwark/test-servers/redis';
import { featureFlags, fileSource, httpSource, redisSource, type FeatureFlags } from '../src/index.js';

/** Resolves when `check` passes, polling; fails with the last error after `ms`. */
async function eventually(check: () => void, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const open: FeatureFlags[] = [];
const track = (flags: FeatureFlags) => (open.push(flags), flags);
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

describe('fileSource', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-flags-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads JSON, reloads on change, keeps the last good document on a bad edit', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify({ flags: { a: {} } }));
    const flags = track(featureFlags({ source: fileSource(file, { watch: true, debounceMs: 10 }), env: false }));
    const errors: string[] = [];
    const changes: string[][] = [];
    flags.onError((e) => errors.push(e.error.message));
    flags.onChange((e) => changes.push([...e.flags]));
    await flags.ready();
    expect(flags.isEnabled('a')).toBe(true);

    writeFileSync(file, JSON.stringify({ flags: { a: { enabled: false }, b: {} } }));
    await eventually(() => expect(flags.isEnabled('b')).toBe(true));
    expect(flags.isEnabled('a')).toBe(false);
    expect(changes).toContainEqual(['a', 'b']);

    writeFileSync(file, '{ "flags": { "a": ');
    await eventually(() => expect(errors.some((e) => e.includes('not valid JSON'))).toBe(true));
    writeFileSync(file, JSON.stringify({ flags: { a: { rules: [{ segments: ['ghost'] }] } } }));
    await eventually(() => expect(errors.some((e) => e.includes('no segment ghost'))).toBe(true));
    expect(flags.isEnabled('b')).toBe(true);
    expect(flags.isEnabled('a')).toBe(false);
  });

  it('reads YAML and follows a rename into place', async () => {
    const file = join(dir, 'flags.yaml');
    writeFileSync(file, 'flags:\n  a:\n    enabled: true\n');
    const flags = track(featureFlags({ source: fileSource(file, { watch: true, debounceMs: 10 }), env: false }));
    await flags.ready();
    expect(flags.isEnabled('a')).toBe(true);
    const temp = join(dir, 'flags.yaml.new');
    writeFileSync(temp, 'flags:\n  a:\n    enabled: false\n');
    renameSync(temp, file);
    await eventually(() => expect(flags.isEnabled('a')).toBe(false));
  });

  it('writes through with set(): the file holds what was written, no temp file is left', async () => {
    const file = join(dir, 'write.yaml');
    writeFileSync(file, 'flags:\n  a: {}\n');
    const flags = track(featureFlags({ source: fileSource(file), env: false }));
    await flags.ready();
    await flags.set('b', { rules: [{ rollout: { percentage: 20 } }] });
    expect(readFileSync(file, 'utf8')).toContain('percentage: 20');
    const again = track(featureFlags({ source: fileSource(file), env: false }));
    await again.ready();
    expect(again.get('b')?.rules[0]?.rollout?.percentage).toBe(20);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('never yields a half-applied document while reloading under evaluation', async () => {
    // Version n: parent serves variant vn, child requires parent's vn. A child evaluated against another
    // version's parent would be off.
    const file = join(dir, 'versions.json');
    const version = (n: number) => ({
      flags: {
        parent: { variants: { [`v${n}`]: n }, defaultVariant: `v${n}` },
        child: { prerequisites: [{ flag: 'parent', variants: [`v${n}`] }] },
      },
    });
    writeFileSync(file, JSON.stringify(version(0)));
    const flags = track(featureFlags({ source: fileSource(file, { watch: true, debounceMs: 0 }), env: false }));
    await flags.ready();
    const seen = new Set<number>();
    for (let n = 1; n <= 10; n++) {
      writeFileSync(file, JSON.stringify(version(n)));
      const until = Date.now() + 150;
      while (Date.now() < until) {
        expect(flags.isEnabled('child')).toBe(true);
        seen.add(flags.getNumber('parent', -1));
        await new Promise((r) => setImmediate(r));
      }
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('a missing file delays readiness and reports why', async () => {
    const file = join(dir, 'later.json');
    const flags = track(featureFlags({ source: fileSource(file), env: false, retryMs: 20 }));
    const errors: string[] = [];
    flags.onError((e) => errors.push(e.error.message));
    await new Promise((r) => setTimeout(r, 50));
    expect(flags.isReady).toBe(false);
    writeFileSync(file, JSON.stringify({ flags: { a: {} } }));
    await flags.ready();
    expect(errors[0]).toContain('ENOENT');
  });
});

describe('httpSource', () => {
  let server: Server;
  let url: string;
  let body = JSON.stringify({ flags: { a: {} } });
  let etag = '"1"';
  let failing = 0;
  const seen: { inm: string | undefined; status: number }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (failing > 0) {
        failing--;
        seen.push({ inm: req.headers['if-none-match'], status: 500 });
        res.writeHead(500).end();
        return;
      }
      if (req.headers['if-none-match'] === etag) {
        seen.push({ inm: etag, status: 304 });
        res.writeHead(304).end();
        return;
      }
      seen.push({ inm: req.headers['if-none-match'], status: 200 });
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/flags`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('polls with If-None-Match, reloads on a new ETag, backs off on failure', async () => {
    const flags = track(featureFlags({ source: httpSource(url, { intervalMs: 30 }), env: false }));
    await flags.ready();
    expect(flags.isEnabled('a')).toBe(true);
    await eventually(() => expect(seen.some((s) => s.status === 304)).toBe(true));
    body = JSON.stringify({ flags: { a: { enabled: false } } });
    etag = '"2"';
    await eventually(() => expect(flags.isEnabled('a')).toBe(false));
    const errors: string[] = [];
    flags.onError((e) => errors.push(e.error.message));
    failing = 3;
    await eventually(() => expect(errors.length).toBe(3));
    expect(errors[0]).toContain('HTTP 500');
    expect(flags.isEnabled('a')).toBe(false);
  });

  it('maps a foreign body (an Unleash features document) into flags', async () => {
    const { fromUnleash } = await import('../src/unleash.js');
    body = JSON.stringify({ version: 1, features: [{ name: 'u', enabled: true, strategies: [{ name: 'default' }] }] });
    etag = '"3"';
    const flags = track(
      featureFlags({ source: httpSource(url, { map: (b) => fromUnleash(b as never).document }), env: false }),
    );
    await flags.ready();
    expect(flags.isEnabled('u')).toBe(true);
  });
});

describe('redisSource', () => {
  let shared: Redis | undefined;
  beforeAll(async () => {
    shared = await sharedRedis();
  });
  afterAll(() => shared?.disconnect());

  it('set() in one process reaches every process through pub/sub', async () => {
    if (!shared) return;
    const key = `${testPrefix()}flags`;
    const [c1, c2] = [new Redis(), new Redis()];
    try {
      const one = track(featureFlags({ source: redisSource(c1, key), env: false }));
      const two = track(featureFlags({ source: redisSource(c2, key), env: false }));
      await Promise.all([one.ready(), two.ready()]);
      expect(two.list()).toEqual({});
      await one.set('a', { rules: [{ targetingKeys: ['u1'] }] });
      await eventually(() => expect(two.isEnabled('a', { targetingKey: 'u1' })).toBe(true));
      expect(JSON.parse((await shared.get(key))!)).toEqual({ flags: { a: { rules: [{ targetingKeys: ['u1'] }] } } });
      await two.remove('a');
      await eventually(() => expect(one.get('a')).toBeUndefined());
    } finally {
      c1.disconnect();
      c2.disconnect();
    }
  });

  it('keeps the last document while Redis is down, and reloads what changed when it is back', async () => {
    const redis = await PrivateRedis.create();
    const key = 'flags';
    const writer = new Redis(redis.url, { maxRetriesPerRequest: 1 }).on('error', () => undefined);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 }).on(
      'error',
      () => undefined,
    );
    try {
      await writer.set(key, JSON.stringify({ flags: { a: {} } }));
      const flags = track(featureFlags({ source: redisSource(client, key), env: false }));
      await flags.ready();
      await redis.stop();
      expect(flags.isEnabled('a')).toBe(true);
      await redis.start();
      // Changed while this process was not listening: no message reaches it, the reconnect's reload does.
      const w2 = new Redis(redis.url);
      await w2.set(key, JSON.stringify({ flags: { a: { enabled: false } } }));
      w2.disconnect();
      await eventually(() => expect(flags.isEnabled('a')).toBe(false), 10_000);
    } finally {
      writer.disconnect();
      client.disconnect();
      await redis.stop();
    }
  });

  it('refuses a client that is not one', () => {
    expect(() => redisSource({} as never, 'k')).toThrow(/expected an ioredis client/);
  });
});
