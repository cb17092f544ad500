import { cases } from './ratelimit.ts';
const names = process.argv.slice(2);
const fns = names.map((n) => cases[n]!());
const N = 1e6;
const best = names.map(() => Infinity);
for (let r = 0; r < 7; r++) {
  for (let j = 0; j < fns.length; j++) {
    const f = fns[j]!;
    const t0 = performance.now();
    let p: unknown;
    for (let i = 0; i < N; i++) p = f();
    if (p instanceof Promise) await p;
    const ns = ((performance.now() - t0) * 1e6) / N;
    best[j] = Math.min(best[j]!, ns);
  }
}
names.forEach((n, j) => console.log(n, best[j]!.toFixed(1)));
