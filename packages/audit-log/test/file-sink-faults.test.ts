import type * as fsModule from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { createAuditLog, type AuditLog } from '../src/audit-log.js';
import { fileSink } from '../src/file-sink.js';
import { tempDir } from './helpers.js';

// The disk refusing a write (ENOSPC, EIO) cannot be provoked on a healthy file without root; the sink's own write
// call is made to fail instead, as the kernel would.
const disk = vi.hoisted(() => ({ failures: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof fsModule>();
  return {
    ...fs,
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      if (disk.failures > 0) {
        disk.failures--;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
  };
});

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

it('keeps lines the disk refused, reports each failure, and writes them once it takes them again', async () => {
  const path = join(tempDir(), 'audit.jsonl');
  const log = createAuditLog({ app: 'orders', sink: fileSink(path, { fsync: 'always', maxQueued: 2 }) });
  logs.push(log);
  const errors: unknown[] = [];
  log.onError((e) => errors.push(e.error));
  disk.failures = 2;
  log.record({ event: 'thing_happened', args: [0] });
  log.record({ event: 'thing_happened', args: [1] });
  expect(errors.map((e) => (e as { code: string }).code)).toEqual(['ENOSPC', 'ENOSPC']);
  expect(log.stats()).toMatchObject({ queued: 2, sinkErrors: 2 });
  // The queue is at its bound: the next record is refused at admission, counted, and recorded later.
  const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  expect(log.record({ event: 'thing_happened', args: [2] })).toBeUndefined();
  warning.mockRestore();
  expect(log.stats().dropped).toBe(1);
  await log.flush(); // the disk is back
  log.record({ event: 'thing_happened', args: [3] });
  const events = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number; event: string }).event);
  expect(events).toEqual(['thing_happened:0', 'thing_happened:1', 'audit_dropped:1', 'thing_happened:3']);
});
