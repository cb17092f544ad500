/** Times one case of one suite with mitata and prints `{"ns": avg}` as the last line. */
import { bench, do_not_optimize, run } from 'mitata';

const [suite, name] = process.argv.slice(2);
const mod = (await import(`./${suite}.ts`)) as { cases: Record<string, () => () => Promise<unknown>> };
const make = mod.cases[name!];
if (!make) throw new Error(`no case ${name} in ${suite}`);
const fn = make();
bench(name!, async () => do_not_optimize(await fn()));
const result = await run({ format: 'quiet', throw: true });
const stats = result.benchmarks[0]!.runs[0]!.stats!;
console.log(JSON.stringify({ ns: stats.avg, p50: stats.p50 }));
