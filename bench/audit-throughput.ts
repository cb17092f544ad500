// One side of the audit-log throughput benchmark, in its own process: writes `count` records to a fresh file and
// prints {"side","count","seconds","perSecond","heapMB":[...]} on stdout. Driven by scripts/bench-audit.mjs.
// argv: <side> <count> <dir>
import { createHash, generateKeyPairSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { checkpointFile, checkpointSigner, createAuditLog, fileSink } from '@bulwark/audit-log';

const [side, countText, dir] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const event = (i: number) => ({
  event: 'authn_login_fail',
  args: ['joebob1'],
  user: 'joebob1',
  sourceIp: '203.0.113.7',
  requestId: `req-${i}`,
  method: 'POST',
  uri: '/api/v2/auth/login',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:10.0) Gecko/20100101 Firefox/10.0',
  reason: 'bad password',
});
const heap: number[] = [];
const sampleHeap = () => {
  globalThis.gc?.();
  heap.push(Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10);
};

const start = process.hrtime.bigint();
if (side === 'pino') {
  // pino writing the same objects to the same disk, synchronously (the audit-safe pino setup).
  const logger = pino(pino.destination({ dest: join(dir, 'pino.log'), sync: true }));
  for (let i = 0; i < count; i++) logger.info(event(i));
} else if (side === 'chain') {
  // The floor: JSON.stringify + a SHA-256 hash chain, written in 64 KB batches, no validation or redaction.
  const fd = openSync(join(dir, 'chain.log'), 'a');
  let prev = Buffer.alloc(32);
  let batch: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = JSON.stringify({ seq: i, ts: new Date().toISOString(), ...event(i) });
    prev = createHash('sha256').update(prev).update(line).digest();
    batch.push(line);
    bytes += line.length;
    if (bytes > 65536) {
      writeSync(fd, `${batch.join('\n')}\n`);
      batch = [];
      bytes = 0;
    }
  }
  writeSync(fd, `${batch.join('\n')}\n`);
  closeSync(fd);
} else {
  const fsync = side === 'audit-always' ? 'always' : 'interval';
  const { privateKey } = generateKeyPairSync('ed25519');
  const audit = createAuditLog({
    app: 'bench',
    sink: fileSink(join(dir, 'audit.jsonl'), { fsync }),
    signer: checkpointSigner({ privateKey, name: 'bench' }),
    checkpoints: checkpointFile(join(dir, 'audit.checkpoints')),
    checkpointEveryRecords: Number(process.env.EVERY ?? 1000),
  });
  const every = Math.max(1, Math.floor(count / 10));
  for (let i = 0; i < count; i++) {
    audit.record(event(i));
    if (side === 'audit-heap' && i % every === 0) sampleHeap();
  }
  await audit.close();
  if (side === 'audit-heap') sampleHeap();
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ side, count, seconds, perSecond: count / seconds, heapMB: heap }));
