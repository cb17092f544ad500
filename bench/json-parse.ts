// One side of the JSON benchmark, in its own process: parses documents of one size for about a second and prints
// {"side", "size", "mbPerSecond"}. argv: <json|bulwark|secure-json-parse|floor> <size: 1k|10k|100k|1m>
// `floor` is the least a depth limit checked before JSON.parse can cost: a loop that skips strings with indexOf
// and counts brackets (no escapes, no other limit, no errors), then JSON.parse.
import { jsonParser } from '@bulwark/sanitize';
import sjson from 'secure-json-parse';

const [side, size] = process.argv.slice(2) as [string, string];
const target = { '1k': 1_000, '10k': 10_000, '100k': 100_000, '1m': 1_000_000 }[size]!;

// A realistic API body: an array of records with strings, numbers, booleans, nested objects and short arrays.
const record = (i: number) => ({
  id: i,
  name: `user-${i}`,
  email: `user${i}@example.com`,
  active: i % 3 !== 0,
  score: i * 1.25,
  tags: ['a', 'b', `t${i % 7}`],
  address: { street: `${i} Main Street`, city: 'Springfield', zip: String(10_000 + i) },
});
const items: unknown[] = [];
let text = '[]';
for (let i = 0; text.length < target; i++) {
  items.push(record(i));
  text = JSON.stringify(items);
}
function depthOnly(t: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 34) i = t.indexOf('"', i + 1);
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}
const parse =
  side === 'json'
    ? (t: string) => JSON.parse(t) as unknown
    : side === 'bulwark'
      ? jsonParser()
      : side === 'floor'
        ? (t: string) => (depthOnly(t) > 64 ? undefined : (JSON.parse(t) as unknown))
        : (t: string) => sjson.parse(t, undefined, { protoAction: 'error', constructorAction: 'error' }) as unknown;
for (let i = 0; i < 50; i++) parse(text); // warm up
let runs = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < 1e9) {
  for (let i = 0; i < 10; i++) parse(text);
  runs += 10;
  elapsed = Number(process.hrtime.bigint() - start);
}
console.log(JSON.stringify({ side, size, mbPerSecond: (text.length * runs) / (elapsed / 1e9) / 1e6 }));
