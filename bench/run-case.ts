/** Times one case of one suite with mitata and prints `{"ns": avg}` as the last line. */
import { bench, do_not_optimize, run } from 'mitata';

const [suite, name] = process.argv.slice(2);
const mod = (await import(`./${suite}.ts`)) as { cases: Record<string, () => () => unknown> };
const make = mod.cases[name!];
if (!make) throw new Error(`no case ${name} in ${suite}`);
const fn = make();
// A case whose calls answer synchronously is timed without an await: awaiting a value would add a microtask turn
// that the code under test never costs its callers.
const first = fn();
if (first instanceof Promise) {
  await first;
  bench(name!, async () => do_not_optimize(await fn()));
} else {
  bench(name!, () => do_not_optimize(fn()));
}
const result = await run({ format: 'quiet', throw: true });
const stats = result.benchmarks[0]!.runs[0]!.stats!;
console.log(JSON.stringify({ ns: stats.avg, p50: stats.p50 }));
