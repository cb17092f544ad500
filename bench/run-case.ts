/** Times one case of one suite with mitata and prints `{"ns": avg}` as the last line. */
import { bench, do_not_optimize, run } from 'mitata';

const [suite, name] = process.argv.slice(2);
const mod = (await import(`./${suite}.ts`)) as {
  cases: Record<string, () => (() => unknown) | Promise<() => unknown>>;
};
const make = mod.cases[name!];
if (!make) throw new Error(`no case ${name} in ${suite}`);
// A factory may be async (a client that loads its state first).
const fn = await make();
// A case whose calls answer synchronously is timed without an await: awaiting a value would add a microtask turn
// that the code under test never costs its callers.
// Warm up for 300 ms first: mitata's own warm-up left the first (here: only) benchmark of a process measuring code
// V8 was still optimising — a 100 ns call read ~2.5x slow.
const first = fn();
const isAsync = first instanceof Promise;
if (isAsync) await first;
for (const until = performance.now() + 300; performance.now() < until;) {
  for (let i = 0; i < 1_000; i++) {
    const r = fn();
    if (isAsync) await r;
  }
}
if (isAsync) bench(name!, async () => do_not_optimize(await fn()));
else bench(name!, () => do_not_optimize(fn()));
const result = await run({ format: 'quiet', throw: true });
const stats = result.benchmarks[0]!.runs[0]!.stats!;
console.log(JSON.stringify({ ns: stats.avg, p50: stats.p50 }));
