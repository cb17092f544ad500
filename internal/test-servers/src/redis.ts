import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A client for the shared test Redis, or undefined (with a loud warning) when none answers. With CI=true a
 * missing Redis fails the run instead of skipping.
 */
export async function sharedRedis(): Promise<Redis | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    if (process.env.CI === 'true') throw new Error(`Redis tests need ${REDIS_URL} (CI=true): ${String(error)}`);
    console.warn(`\n!!! SKIPPING Redis tests: nothing answers at ${REDIS_URL} (${String(error)}) !!!\n`);
    return undefined;
  }
}

/** A key prefix of its own for each test. */
export function testPrefix(): string {
  return `bulwark-test:${randomUUID()}:`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server on a free port, for fault tests: stop() kills it, start() brings it back on the same port. */
export class PrivateRedis {
  #process: ChildProcess | undefined;
  #extra: readonly string[] = [];
  private constructor(readonly port: number) {}

  /** Starts a server; `extra` are more redis-server arguments (kept for restarts). */
  static async create(extra: readonly string[] = []): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort());
    await server.start(extra);
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(extra: readonly string[] = this.#extra): Promise<void> {
    this.#extra = extra;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
    child.removeAllListeners('exit');
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null) return;
    this.#process = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * A private three-master Redis Cluster (no replicas), for checking that one request's keys share a slot, that
 * scripts load on every node, and what a dead master does (`nodes[i].stop()`). Its config files go to a temporary
 * directory.
 */
export async function privateCluster(): Promise<{ ports: number[]; nodes: PrivateRedis[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-cluster-'));
  const nodes = await Promise.all(
    [0, 1, 2].map((i) =>
      PrivateRedis.create([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${i}.conf`),
        '--dir',
        dir,
      ]),
    ),
  );
  const ports = nodes.map((n) => n.port);
  execFileSync(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
    {
      stdio: 'ignore',
    },
  );
  // Wait until every node agrees the cluster is up.
  for (const port of ports) {
    for (let i = 0; ; i++) {
      const info = execFileSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' });
      if (info.includes('cluster_state:ok')) break;
      if (i > 100) throw new Error(`cluster on ${port} never became ok`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    ports,
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
