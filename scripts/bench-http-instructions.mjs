// Instructions per request, counted by valgrind's callgrind in the server's main thread: each benchmark server
// (bench/http-server.ts) runs under callgrind and answers a fixed number of requests between a zero and a dump of
// the counts. Instructions, unlike seconds, do not move with what else the machine is doing, so a difference of a
// few percent between two servers can be read on a shared, noisy machine (where an A/A pair of bare servers reads
// 0.92–1.05x apart by CPU time). What they leave out: the kernel's work (the same syscalls per request on both sides,
// and a few more bytes to copy for the headers) and how fast each instruction runs (memory stalls).
//
// Method: V8 runs --single-threaded (compilation on the main thread too, so none of it hides in other threads) and
// --no-memory-reducer (its full GCs are scheduled by wall time, which valgrind stretches ~50x, so they landed in every
// round of some runs: one Fastify server read 104k instructions a request against 67-70k in five other runs);
// after a warm-up, rounds of N and 3N requests are counted; per request = (least 3N count − least N count) / 2N,
// which cancels the fixed cost of the zero/dump commands and a compilation that lands in some round.
//
// Usage: node scripts/bench-http-instructions.mjs [--quick]   (FRAMEWORKS=koa MODES=bare,ratelimit to narrow)
// Prints one JSON line per framework; importable as `instructionsPerRequest`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './bench-http.mjs';

/** True when valgrind (with callgrind_control) is installed. */
export function hasCallgrind() {
  try {
    execFileSync('callgrind_control', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return error.code !== 'ENOENT';
  }
}

function startCounted(framework, mode, outFile) {
  const launcher = ['valgrind', '-q', '--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${outFile}`];
  const extra = process.env.CG_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const nodeArgs = ['--single-threaded', '--no-memory-reducer', ...extra];
  return startServer(framework, mode, { launcher, nodeArgs }).then((server) => ({
    ...server,
    command: (line) => {
      server.child.stdin.write(`${line}\n`);
      return server.nextLine();
    },
  }));
}

/** `count` GET / requests over `connections` keep-alive connections, one at a time on each. */
async function drive(port, count, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let left = count;
  const one = () =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  const worker = async () => {
    while (left > 0) {
      left--;
      await one();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
}

/** The main thread's instruction count of each dump, by label. */
function dumpCounts(dir) {
  const counts = {};
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('-01')) continue; // thread 1: the main thread
    const text = readFileSync(join(dir, name), 'utf8');
    const label = /^desc: Trigger: (?:Client Request: )?dump (\S+)/m.exec(text)?.[1];
    const summary = /^summary: (\d+)/m.exec(text)?.[1];
    if (label !== undefined && summary !== undefined) counts[label] = Number(summary);
  }
  return counts;
}

/**
 * Drives chunks of requests until one costs within 3% of the one before (at most 20): V8 tiers code up by how often
 * it runs, and a server with more code on its path (Fastify with a limiter sending headers) was still compiling after
 * 10,000 requests, which counted it at twice its settled cost.
 */
async function warmUp(server, dir, chunk) {
  await drive(server.port, chunk, 4);
  let previous;
  for (let i = 0; i < 20; i++) {
    await server.command('cg-zero');
    await drive(server.port, chunk, 4);
    await server.command(`cg-dump warm-${i}`);
    const count = dumpCounts(dir)[`warm-${i}`];
    if (previous !== undefined && Math.abs(count - previous) <= 0.03 * previous) return;
    previous = count;
  }
}

/** Fewer, smaller rounds for a smoke run (`--quick`). */
export const quickOptions = { requests: 1_000, warmup: 2_000, rounds: 2 };

/**
 * Counts one server's instructions per request (`warmup`: the size of each warm-up chunk). Returns
 * `{ perRequest, spread }`: spread is how far the second-least count of each size is from the least, per request —
 * the measurement's own noise.
 */
export async function instructionsPerRequest(framework, mode, { requests = 2_000, warmup = 5_000, rounds = 3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-cg-'));
  const server = await startCounted(framework, mode, join(dir, 'out'));
  try {
    await warmUp(server, dir, warmup);
    for (let r = 0; r < rounds; r++) {
      for (const n of [requests, 3 * requests]) {
        await server.command('cg-zero');
        await drive(server.port, n, 4);
        await server.command(`cg-dump ${n}-${r}`);
      }
    }
    server.child.kill();
    await new Promise((resolve) => server.child.once('exit', resolve));
    const counts = dumpCounts(dir);
    const of = (n) =>
      Object.entries(counts)
        .filter(([k]) => k.startsWith(`${n}-`))
        .map(([, v]) => v)
        .sort((a, b) => a - b);
    const small = of(requests);
    const big = of(3 * requests);
    if (small.length < rounds || big.length < rounds)
      throw new Error(`${framework} ${mode}: missing callgrind dumps in ${dir}`);
    const perRequest = (big[0] - small[0]) / (2 * requests);
    const spread = Math.max((small[1] - small[0]) / requests, (big[1] - big[0]) / (3 * requests));
    return { perRequest, spread };
  } finally {
    server.child.kill();
    if (process.env.KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!hasCallgrind()) {
    console.log('valgrind is not installed: no instruction counts (apt install valgrind)');
    process.exit(0);
  }
  const quick = process.argv.includes('--quick');
  const options = quick ? quickOptions : {};
  const modes = (process.env.MODES ?? 'bare,fields,ratelimit,ratelimit-noheaders,anchor').split(',');
  for (const framework of (process.env.FRAMEWORKS ?? 'express,fastify,koa').split(',')) {
    const results = {};
    for (const mode of modes) results[mode] = await instructionsPerRequest(framework, mode, options);
    console.log(framework, JSON.stringify(results));
  }
}
