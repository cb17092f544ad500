/**
 * The Redis store on a three-master Redis Cluster against one Redis, in one run: starts a private Redis and a private
 * Cluster, runs `redis-throughput.ts` for each case (one process each, rounds interleaved) and prints, per case, the
 * medians of its decisions per second and its Redis and client CPU per decision, as one JSON line.
 * argv: [rounds] [seconds]
 */
import { execFileSync } from 'node:child_process';
import { privateCluster, PrivateRedis } from '@bulwark/test-servers/redis';

const [rounds = 5, seconds = 4] = process.argv.slice(2).map(Number);
const single = await PrivateRedis.create();
const cluster = await privateCluster();
const clusterEnv = { REDIS_CLUSTER: String(cluster.ports[0]) };
const cases: Record<string, [kind: string, env: Record<string, string>]> = {
  single: ['bulwark', { REDIS_URL: single.url }],
  oneMaster: ['bulwark', { ...clusterEnv, ONE_NODE: '1' }],
  oneMasterUnbatched: ['bulwark-unbatched', { ...clusterEnv, ONE_NODE: '1' }],
  allMasters: ['bulwark', clusterEnv],
  allMastersUnbatched: ['bulwark-unbatched', clusterEnv],
};
type Sample = { ops: number; redisUs: number; clientUs: number };
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const [name, [kind, env]] of Object.entries(cases)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'redis-throughput.ts', kind, String(seconds)], {
        cwd: import.meta.dirname,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      samples[name]!.push(JSON.parse(out.trim().split('\n').at(-1)!) as Sample);
    }
  }
} finally {
  await Promise.all([single.stop(), cluster.stop()]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medians = Object.fromEntries(
  Object.entries(samples).map(([k, runs]) => [
    k,
    {
      ops: median(runs.map((s) => s.ops)),
      redisUs: median(runs.map((s) => s.redisUs)),
      clientUs: median(runs.map((s) => s.clientUs)),
    },
  ]),
);
console.log(JSON.stringify(medians));
