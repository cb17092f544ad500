// Rate-limiter benchmarks, side by side with rate-limiter-flexible, express-rate-limit, @fastify/rate-limit and
// koa-ratelimit, in one run; writes docs/benchmarks-rate-limiter.md. Same method as scripts/bench.mjs: one process
// per case, rounds interleaved, medians; HTTP sides alternate within each round and ratios are paired per round.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { cores, pin, serverCpu, startServer } from './bench-http.mjs';

const benchDir = new URL('../bench/', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rounds = quick ? 1 : 7;
const node = (args) =>
  JSON.parse(execFileSync(process.execPath, [...args], { cwd: benchDir, encoding: 'utf8' }).trim().split('\n').at(-1));

/** Runs each case once per round, interleaved; returns the median of each case's `field`. */
function interleaved(cases, field) {
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [k, args] of Object.entries(cases)) samples[k].push(node(args)[field]);
  const out = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
  for (const [k, v] of Object.entries(out)) console.log(`${k}: ${v.toFixed(1)} ${field}`);
  return out;
}

const memoryCases = [
  'bulwark gcra, memory, 10k keys',
  'bulwark token-bucket, memory, 10k keys',
  'bulwark sliding-window, memory, 10k keys',
  'bulwark fixed-window, memory, 10k keys',
  'rate-limiter-flexible RateLimiterMemory.consume, 10k keys',
];
const micro = interleaved(
  Object.fromEntries(memoryCases.map((c) => [c, ['--import', 'tsx', 'run-case.ts', 'ratelimit', c]])),
  'ns',
);
const heap = interleaved(
  Object.fromEntries(['map', 'bulwark', 'rlf'].map((k) => [k, ['--expose-gc', '--import', 'tsx', 'heap.ts', k]])),
  'bytesPerKey',
);
const redis = interleaved(
  Object.fromEntries(['incr', 'bulwark', 'rlf'].map((k) => [k, ['--import', 'tsx', 'redis-throughput.ts', k, quick ? '2' : '4']])),
  'ops',
);

// HTTP: the server pinned to the last core where taskset exists, the load generator on the others.

// The load generator: wrk where installed, else autocannon. On two cores autocannon (JavaScript) becomes the
// bottleneck once responses carry longer header values: the server then idles between smaller batches and its CPU
// per request rises (an A/B of two constant draft-10 header fields read 0.79x with autocannon, 1.01x with wrk).
let hasWrk = false;
try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  hasWrk = true;
} catch (error) {
  hasWrk = error.status === 1; // wrk --version exits 1 after printing its version
}

async function load(url, seconds) {
  if (!hasWrk) {
    const r = await autocannon({ url, connections: 16, duration: seconds });
    return { rps: r.requests.average, total: r.requests.total, non2xx: r.non2xx };
  }
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${seconds}s`, url], { encoding: 'utf8' });
  const total = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), total, non2xx };
}

async function throughput(framework, mode, seconds) {
  const server = await startServer(framework, mode);
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    await load(url, 1);
    const before = await serverCpu(server);
    const r = await load(url, seconds);
    const after = await serverCpu(server);
    return { rps: r.rps, cpuPerRequest: (after - before) / r.total, non2xx: r.non2xx };
  } finally {
    server.child.kill();
  }
}

const seconds = quick ? 2 : 4;
const modes = ['bare', 'ratelimit', 'ratelimit-noheaders', 'anchor'];
const http = {};
for (const framework of (process.env.FRAMEWORKS ?? 'express,fastify,koa').split(',')) {
  const samples = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < rounds; i++) {
    const order = modes.map((_, j) => modes[(i + j) % modes.length]);
    for (const mode of order) samples[mode].push(await throughput(framework, mode, seconds));
  }
  http[framework] = Object.fromEntries(
    modes.map((m) => [
      m,
      {
        rps: median(samples[m].map((s) => s.rps)),
        cpuRatio: median(samples[m].map((s, i) => samples.bare[i].cpuPerRequest / s.cpuPerRequest)),
        rpsRatio: median(samples[m].map((s, i) => s.rps / samples.bare[i].rps)),
        non2xx: Math.max(...samples[m].map((s) => s.non2xx)),
      },
    ]),
  );
  console.log(framework, JSON.stringify(http[framework]));
}

const x = (r) => `${r.toFixed(2)}×`;
const verdict = (ok) => (ok ? 'met' : '**not met**');
const rlf = micro['rate-limiter-flexible RateLimiterMemory.consume, 10k keys'];
const gcra = micro['bulwark gcra, memory, 10k keys'];
const memorySpeedup = rlf / gcra;
const heapRatio = heap.bulwark / heap.map;
const redisRatio = redis.bulwark / redis.incr;
const anchors = { express: 'express-rate-limit 8', fastify: '@fastify/rate-limit 11', koa: 'koa-ratelimit 6' };

const lines = [
  '# Rate-limiter benchmarks',
  '',
  `Generated by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'} ` +
    `(${cores} cores), Node ${process.version}. Shared, noisy machine: read the ratios, not the times. Each figure is` +
    ` the median of ${rounds} interleaved fresh processes (or rounds).`,
  '',
  '## Memory store: one decision per call over 10,000 keys',
  '',
  '| case | time/call |',
  '|---|---:|',
  ...memoryCases.map((c) => `| ${c} | ${micro[c].toFixed(0)} ns |`),
  '',
  'Each case runs in a fresh process, warmed up for 300 ms before mitata measures it.',
  "Bulwark's memory store answers synchronously (timed without `await`); rate-limiter-flexible's `consume` returns a",
  'promise, timed with `await` as its callers must. About a third of a Bulwark decision here is reading the clock',
  '(`performance.now()` costs ~50 ns on this VM).',
  '',
  '## Memory per limited key, 1,000,000 keys',
  '',
  '| structure | bytes/key (heap + typed-array buffers, key strings included) |',
  '|---|---:|',
  `| \`Map<string, number>\` (floor) | ${heap.map.toFixed(1)} |`,
  `| Bulwark memory store (GCRA) | ${heap.bulwark.toFixed(1)} |`,
  `| rate-limiter-flexible RateLimiterMemory | ${heap.rlf.toFixed(1)} |`,
  '',
  '## Redis: decisions per second, 64 concurrent callers on one ioredis connection',
  '',
  '| case | ops/s |',
  '|---|---:|',
  `| raw \`INCR\` (floor) | ${redis.incr.toFixed(0)} |`,
  `| Bulwark redisStore (GCRA; concurrent calls batched, 8 per script run) | ${redis.bulwark.toFixed(0)} |`,
  `| rate-limiter-flexible RateLimiterRedis | ${redis.rlf.toFixed(0)} |`,
  '',
  '## HTTP: a never-limiting rate limiter vs the bare framework',
  '',
  `${hasWrk ? 'wrk (1 thread)' : 'autocannon'}, 16 connections, ${rounds} rotating rounds of ${seconds} s per side; ` +
    (pin ? `server pinned to core ${cores - 1}, load generator to the others.` : 'server and load generator share every core.') +
    ' "By CPU" is bare CPU per request ÷ limited CPU per request, paired within each round (see docs/benchmarks.md).',
  '',
  '| framework | bare req/s | Bulwark, by CPU | Bulwark, by req/s | Bulwark without headers, by CPU | anchor | anchor, by CPU | anchor, by req/s |',
  '|---|---:|---:|---:|---:|---|---:|---:|',
  ...Object.entries(http).map(
    ([fw, r]) =>
      `| ${fw} | ${r.bare.rps.toFixed(0)} | ${x(r.ratelimit.cpuRatio)} | ${x(r.ratelimit.rpsRatio)} | ` +
      `${x(r['ratelimit-noheaders'].cpuRatio)} | ${anchors[fw]} | ${x(r.anchor.cpuRatio)} | ${x(r.anchor.rpsRatio)} |`,
  ),
  '',
  'The Bulwark column sends the two draft-10 fields (`RateLimit-Policy`, `RateLimit`) on every response, as the',
  'anchors send theirs (express-rate-limit draft-8, @fastify/rate-limit three `x-ratelimit-*`, koa-ratelimit three).',
  'The middleware itself (key, decision, header values, adapter) measures ~0.25 µs per request in isolation; CPU',
  "profiles of the limited servers put Bulwark's functions at ~3% of busy samples. The \"without headers\" column",
  'shows the limiter alone. Rounds differ by up to ±6% here, so a few percent either side of a goal is noise.',
  'Open question (Fastify): the two header fields cost far more through the plugin (0.77× vs 1.03× without, in the',
  'run that introduced this column) than the same two constant values set by a bare onRequest hook (1.01× in an A/B',
  'with wrk); the per-request header values are built strings there, constants in the A/B. Not yet explained.',
  '',
  '## Goals (issue 4)',
  '',
  '| goal | measured | verdict |',
  '|---|---:|---|',
  `| memory decision ≥ 5× faster than rate-limiter-flexible's \`RateLimiterMemory.consume\` | ${x(memorySpeedup)} | ${verdict(memorySpeedup >= 5)} |`,
  `| memory per limited key ≤ 1.6× a \`Map<string, number>\` | ${x(heapRatio)} (rate-limiter-flexible ${x(heap.rlf / heap.map)}) | ${verdict(heapRatio <= 1.6)} |`,
  `| Redis decisions/s ≥ 1.0× a raw \`INCR\` loop | ${x(redisRatio)} (rate-limiter-flexible ${x(redis.rlf / redis.incr)}) | ${verdict(redisRatio >= 1)} |`,
  ...Object.entries(http).map(
    ([fw, r]) =>
      `| HTTP throughput with the limiter ≥ 0.97× bare, ${fw} (by CPU) | ${x(r.ratelimit.cpuRatio)} (${anchors[fw]} ${x(r.anchor.cpuRatio)}) | ${verdict(r.ratelimit.cpuRatio >= 0.97)} |`,
  ),
  '',
];
if (!quick) writeFileSync(new URL('../docs/benchmarks-rate-limiter.md', import.meta.url), lines.join('\n'));
console.log(lines.join('\n'));
