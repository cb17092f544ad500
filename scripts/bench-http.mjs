// Shared by the benchmark scripts: micro-benchmark processes, pinning, and the HTTP benchmark server
// (bench/http-server.ts) run as a child.
import { spawn, execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const benchDir = new URL('../bench/', import.meta.url).pathname;

// On a small machine the server and the load generator fight for cores, which swamps a few-percent difference.
// Where taskset exists, pin the server to the last core and this process (autocannon) to the others.
export const cores = cpus().length;
export const pin = cores >= 2 && hasTaskset();
function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (pin) execFileSync('taskset', ['-p', '-c', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });

/**
 * Starts bench/http-server.ts as `node <nodeArgs> … <framework> <mode>`, under `launcher` when given (a command
 * line that runs the rest, as valgrind does), pinned to the last core when the machine has two or more.
 */
export function startServer(framework, mode, { launcher = [], nodeArgs = [] } = {}) {
  const command = [...launcher, process.execPath, ...nodeArgs, '--import', 'tsx', 'http-server.ts', framework, mode];
  const stdio = ['pipe', 'pipe', 'inherit'];
  const child = pin
    ? spawn('taskset', ['-c', String(cores - 1), ...command], { cwd: benchDir, stdio })
    : spawn(command[0], command.slice(1), { cwd: benchDir, stdio });
  child.stdout.setEncoding('utf8');
  const lines = [];
  let waiting;
  let exited; // once the server is gone, every line still awaited fails instead of hanging the run
  child.once('exit', (code) => {
    exited = new Error(`${framework} ${mode} server exited ${code}`);
    waiting?.();
  });
  child.stdout.on('data', (chunk) => {
    lines.push(...chunk.trim().split('\n'));
    waiting?.();
  });
  const nextLine = () =>
    new Promise((resolve, reject) => {
      const take = () => {
        waiting = undefined;
        if (lines.length > 0) resolve(lines.shift());
        else if (exited !== undefined) reject(exited);
        else waiting = take;
      };
      take();
    });
  return nextLine().then((port) => ({ port: Number(port), child, nextLine }));
}

/** Server CPU microseconds so far, `{ user, system }` (asks the server over stdin). */
export async function serverCpu(server) {
  server.child.stdin.write('cpu\n');
  const [, user, system] = (await server.nextLine()).split(' ');
  return { user: Number(user), system: Number(system) };
}

// The load generator: wrk where installed, else autocannon. On two cores autocannon (JavaScript) becomes the
// bottleneck once responses carry longer header values: the server then idles between smaller batches and its CPU
// per request rises (an A/B of two constant draft-10 header fields read 0.79x with autocannon, 1.01x with wrk).
export let hasWrk = false;
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

/**
 * Loads one server (bench/http-server.ts `<framework> <mode>`) at `path` for `seconds` after a 1 s warm-up;
 * returns requests/s and the server's CPU microseconds per request (in all, and in user space alone).
 */
export async function throughput(framework, mode, seconds, path = '/') {
  const server = await startServer(framework, mode);
  try {
    const url = `http://127.0.0.1:${server.port}${path}`;
    await load(url, 1);
    const before = await serverCpu(server);
    const r = await load(url, seconds);
    const after = await serverCpu(server);
    const user = (after.user - before.user) / r.total;
    const system = (after.system - before.system) / r.total;
    return { rps: r.rps, cpuPerRequest: user + system, userPerRequest: user, non2xx: r.non2xx };
  } finally {
    server.child.kill();
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Measures each mode once per round, rotating the order each round; the first mode is the floor. Returns, per mode,
 * the median req/s, the median of per-round paired ratios to the floor (by CPU per request, by user-space CPU per
 * request, and by req/s), the most non-2xx responses seen, and each round's CPU per request (to pair two other
 * modes).
 */
export async function compareModes(framework, modes, { rounds, seconds, path = '/' }) {
  const samples = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < rounds; i++) {
    const order = modes.map((_, j) => modes[(i + j) % modes.length]);
    for (const mode of order) samples[mode].push(await throughput(framework, mode, seconds, path));
  }
  const floor = samples[modes[0]];
  return Object.fromEntries(
    modes.map((m) => [
      m,
      {
        rps: median(samples[m].map((s) => s.rps)),
        cpu: median(samples[m].map((s) => s.cpuPerRequest)),
        cpuRatio: median(samples[m].map((s, i) => floor[i].cpuPerRequest / s.cpuPerRequest)),
        userRatio: median(samples[m].map((s, i) => floor[i].userPerRequest / s.userPerRequest)),
        rpsRatio: median(samples[m].map((s, i) => s.rps / floor[i].rps)),
        non2xx: Math.max(...samples[m].map((s) => s.non2xx)),
        cpuRounds: samples[m].map((s) => s.cpuPerRequest),
      },
    ]),
  );
}

/** How far the two per-request measures can be trusted here, for every report that shows both. */
export const measurementCaveat = [
  'CPU ratios on this shared 2-core machine move by several percent between identical servers (see the A/A row in',
  'docs/benchmarks.md). Instruction counts repeat within about 1 % on Fastify and Koa; on Express, whose own',
  'per-request work is ten times larger, GC and recompilation make them move by up to ±5 % between runs of the same',
  'server: read Express from both measures, and from more than one run.',
].join('\n');

/** The sentence that says how an HTTP table was measured. */
export function httpMethod(rounds, seconds) {
  return (
    `${hasWrk ? 'wrk (1 thread)' : 'autocannon'}, 16 connections, ${rounds} rotating rounds of ${seconds} s per side; ` +
    (pin
      ? `server pinned to core ${cores - 1}, load generator to the others.`
      : 'server and load generator share every core.')
  );
}

/**
 * Times micro-benchmark cases (bench/run-case.ts `<suite> <case>`), one fresh process per case and round. Rounds
 * are interleaved (every case once per round) so load drifting on a shared machine lands on every case alike instead
 * of on whichever case ran during the busy minute; the median of the rounds is kept (1 round when `quick`, else
 * `rounds`).
 */
export async function microSuite(quick, suite, names, rounds = 3) {
  const runs = quick ? 1 : rounds;
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (const name of names) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'run-case.ts', suite, name], {
        cwd: benchDir,
        encoding: 'utf8',
      });
      samples[name].push(JSON.parse(out.trim().split('\n').at(-1)).ns);
    }
  }
  const out = {};
  for (const name of names) {
    out[name] = median(samples[name]);
    console.log(`${suite} | ${name}: ${out[name].toFixed(1)} ns (median of ${runs} interleaved processes)`);
  }
  return out;
}
