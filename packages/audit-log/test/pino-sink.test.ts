import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/audit-log.js';
import { pinoSink } from '../src/pino-sink.js';
import { memoryCheckpoints } from '../src/checkpoint-store.js';
import { tempDir, testSigner } from './helpers.js';

describe('pinoSink (real pino)', () => {
  it('writes each record under `audit` at the matching pino level, through a synchronous destination', async () => {
    const path = join(tempDir(), 'pino.log');
    const logger = pino(pino.destination({ dest: path, sync: true }));
    const audit = createAuditLog({ app: 'orders', sink: pinoSink(logger) });
    audit.record({ event: 'authn_login_success', args: ['ann'] });
    audit.record({ event: 'authn_login_fail', args: ['bob'], data: { password: 'hunter2' } });
    audit.record({ event: 'authz_fail', args: ['bob', 'admin'] });
    await audit.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; audit: { seq: number; level: string } });
    expect(lines.map((l) => [l.level, l.msg, l.audit.seq, l.audit.level])).toEqual([
      [30, 'authn_login_success:ann', 0, 'INFO'],
      [40, 'authn_login_fail:bob', 1, 'WARN'],
      [50, 'authz_fail:bob,admin', 2, 'CRITICAL'],
    ]);
    expect(readFileSync(path, 'utf8')).not.toContain('hunter2');
  });

  it('flush() resolves on an idle event loop (regression: pinojs/pino#2481, flush(cb) never called back)', async () => {
    const logger = pino(pino.destination({ dest: join(tempDir(), 'idle.log'), sync: true }));
    const audit = createAuditLog({ app: 'orders', sink: pinoSink(logger) });
    audit.record({ event: 'thing_happened' });
    await expect(audit.flush()).resolves.toBeUndefined();
    await audit.close();
  });

  it('cannot carry checkpoints: pino re-serialises what it writes, so a signer is refused', () => {
    const sink = pinoSink(pino({ enabled: false }));
    expect(() =>
      createAuditLog({ app: 'orders', sink, signer: testSigner(), checkpoints: memoryCheckpoints() }),
    ).toThrow(/re-serialises/);
  });
});
