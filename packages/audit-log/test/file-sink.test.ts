import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isBulwarkConfigError } from '@bulwark/core';
import { createAuditLog, type AuditLog } from '../src/audit-log.js';
import { checkpointSigner } from '../src/checkpoint.js';
import { checkpointFile } from '../src/checkpoint-store.js';
import { fileLogLines, fileSegments, fileSink } from '../src/file-sink.js';
import { verifyLog } from '../src/verify-log.js';
import { collect, tempDir, testSigner } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const logs: AuditLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});
function open(path: string, options: Parameters<typeof fileSink>[1] = {}, extra: object = {}) {
  const log = createAuditLog({ app: 'orders', hostname: 'h', sink: fileSink(path, options), ...extra });
  logs.push(log);
  return log;
}
const fileRecords = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { seq: number; event: string; data?: Record<string, unknown> });

describe('fileSink', () => {
  it('with fsync "always", a record is in the file when record() returns', () => {
    const path = join(tempDir(), 'audit.jsonl');
    const log = open(path, { fsync: 'always' });
    log.record({ event: 'authn_login_fail', args: ['bob'] });
    expect(fileRecords(path).map((r) => r.event)).toEqual(['authn_login_fail:bob']);
  });

  it('with fsync "interval", lines of one event-loop turn go out in one write, by the next turn', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const log = open(path);
    for (let i = 0; i < 3; i++) log.record({ event: 'thing_happened', args: [i] });
    expect(existsSync(path) ? readFileSync(path, 'utf8') : '').toBe('');
    expect(log.stats().queued).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(fileRecords(path).map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(log.stats().queued).toBe(0);
  });

  it('continues seq and hash tree after a restart, and verifies across both runs', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const signer = testSigner();
    const checkpoints = checkpointFile(join(dir, 'audit.checkpoints'));
    const first = open(path, {}, { signer, checkpoints });
    first.record({ event: 'sys_startup' });
    first.record({ event: 'authn_login_success', args: ['ann'] });
    await first.close();
    const second = open(path, {}, { signer, checkpoints });
    await second.ready;
    expect(second.record({ event: 'sys_restart' })).toBe(2);
    await second.close();
    expect(fileRecords(path).map((r) => r.seq)).toEqual([0, 1, 2]);
    const result = await verifyLog({
      lines: fileLogLines(path),
      checkpoints: checkpoints.notes(),
      publicKey: signer.verifierKey,
    });
    expect(result).toMatchObject({ ok: true, records: 3, checkpoints: 2, uncovered: 0 });
  });

  it('cuts a line a crash left half-written, and records that it did', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const first = open(path);
    first.record({ event: 'thing_happened' });
    await first.close();
    appendFileSync(path, '{"seq":1,"ts":"2026-12-04T12:0');
    const second = open(path);
    await second.flush();
    const records = fileRecords(path);
    expect(records.map((r) => [r.seq, r.event])).toEqual([
      [0, 'thing_happened'],
      [1, 'audit_recovered'],
    ]);
    expect(records[1]!.data).toMatchObject({ discardedBytes: 30, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('rotates at maxBytes into numbered files; the log and its checkpoints span them', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const signer = testSigner();
    const checkpoints = checkpointFile(join(dir, 'cp'));
    const log = open(
      path,
      { rotate: { maxBytes: 2048 }, fsync: 'always' },
      { signer, checkpoints, checkpointEveryRecords: 10 },
    );
    for (let i = 0; i < 60; i++) log.record({ event: 'thing_happened', args: [i], description: 'd'.repeat(40) });
    await log.close();
    const segments = fileSegments(path);
    expect(segments.length).toBeGreaterThan(2);
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith('audit.jsonl.'))
        .sort()[0],
    ).toBe('audit.jsonl.000000000000');
    const lines = await collect(fileLogLines(path));
    expect(lines.map((l) => JSON.parse(l.bytes.toString()).seq)).toEqual([...Array(60).keys()]);
    const result = await verifyLog({ lines, checkpoints: checkpoints.notes(), publicKey: signer.verifierKey });
    expect(result).toMatchObject({ ok: true, records: 60, uncovered: 0 });
    const again = open(path, { rotate: { maxBytes: 2048 } });
    expect(again.record({ event: 'sys_restart' })).toBe(60);
  });

  it('rejects bad options', () => {
    for (const [path, options] of [
      ['', {}],
      ['a.log', { fsync: 'sometimes' }],
      ['a.log', { rotate: { maxBytes: 10 } }],
      ['a.log', { fsyncIntervalMs: 0 }],
    ] as const) {
      let error: unknown;
      try {
        fileSink(path, options as never);
      } catch (e) {
        error = e;
      }
      expect(isBulwarkConfigError(error)).toBe(true);
    }
  });
});

describe('a writer process that exits or is killed', () => {
  function writer(dir: string, mode: 'crash' | 'exit', fsync: 'always' | 'interval') {
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyPath = join(dir, 'key.pem');
    writeFileSync(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const paths = { log: join(dir, 'audit.jsonl'), cp: join(dir, 'audit.cp'), ack: join(dir, 'ack') };
    const child = spawn(
      process.execPath,
      [
        '--conditions=@bulwark/source',
        '--import',
        'tsx',
        'test/fixtures/writer.ts',
        paths.log,
        paths.cp,
        keyPath,
        mode,
        fsync,
        paths.ack,
      ],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const running = new Promise<void>((resolve) =>
      createInterface({ input: child.stdout }).on('line', () => resolve()),
    );
    const verifier = checkpointSigner({ privateKey, name: 'crash-test' }).verifierKey;
    return { child, exited, running, paths, verifier };
  }

  it('process.exit() right after recording loses nothing and signs a final checkpoint', async () => {
    const w = writer(tempDir(), 'exit', 'interval');
    expect(await w.exited).toBe(0);
    const result = await verifyLog({
      lines: fileLogLines(w.paths.log),
      checkpoints: checkpointFile(w.paths.cp).notes(),
      publicKey: w.verifier,
    });
    expect(result).toMatchObject({ ok: true, records: 250, uncovered: 0 });
  });

  it.each(['always', 'interval'] as const)(
    'kill -9 mid-write (fsync %s): no partial record accepted, nothing acknowledged lost, the restart verifies',
    async (fsync) => {
      const dir = tempDir();
      const w = writer(dir, 'crash', fsync);
      await w.running;
      await new Promise((r) => setTimeout(r, 300));
      w.child.kill('SIGKILL');
      await w.exited;
      const result = await verifyLog({
        lines: fileLogLines(w.paths.log),
        checkpoints: checkpointFile(w.paths.cp).notes(),
        publicKey: w.verifier,
      });
      expect(result.problems).toEqual([]);
      expect(result.records).toBeGreaterThanOrEqual(500);
      expect(result.checkpoints).toBeGreaterThan(0);
      if (fsync === 'always') {
        const acknowledged = Number(readFileSync(w.paths.ack, 'utf8'));
        expect(result.records).toBeGreaterThan(acknowledged); // every seq record() returned is stored
      }
      // A torn tail, if the kill landed mid-write, is what a restart cuts; either way the restarted log verifies.
      const restarted = open(w.paths.log);
      await restarted.ready;
      restarted.record({ event: 'sys_restart' });
      await restarted.close();
      const after = await verifyLog({
        lines: fileLogLines(w.paths.log),
        checkpoints: checkpointFile(w.paths.cp).notes(),
        publicKey: w.verifier,
      });
      expect(after.problems).toEqual([]);
      expect(after.partialTail).toBe(false);
      expect(after.records).toBeGreaterThanOrEqual(result.records + 1);
    },
    30_000,
  );
});

describe('a torn last line is never accepted by verify', () => {
  it('reports it as a partial tail, not as a record', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const signer = testSigner();
    const checkpoints = checkpointFile(join(dir, 'cp'));
    const log = open(path, {}, { signer, checkpoints });
    log.record({ event: 'thing_happened' });
    await log.close();
    const size = readFileSync(path).length;
    appendFileSync(path, '{"seq":1,"event":"forged"}\n{"seq":2');
    let result = await verifyLog({
      lines: fileLogLines(path),
      checkpoints: checkpoints.notes(),
      publicKey: signer.verifierKey,
    });
    expect(result).toMatchObject({ ok: true, records: 2, uncovered: 1, partialTail: true });
    truncateSync(path, size);
    result = await verifyLog({
      lines: fileLogLines(path),
      checkpoints: checkpoints.notes(),
      publicKey: signer.verifierKey,
    });
    expect(result).toMatchObject({ ok: true, records: 1, uncovered: 0, partialTail: false });
  });
});
