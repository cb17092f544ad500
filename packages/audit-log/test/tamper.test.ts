import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/audit-log.js';
import { memoryCheckpoints } from '../src/checkpoint-store.js';
import { leafHash } from '../src/merkle.js';
import { memorySink } from '../src/memory-sink.js';
import { verifyLog, type VerifyResult } from '../src/verify-log.js';
import { testSigner } from './helpers.js';

// A log of 20 records with checkpoints at 5, 10, 15 and 20, then one kind of tampering per test.
async function signedLog() {
  const signer = testSigner();
  const checkpoints = memoryCheckpoints();
  const sink = memorySink();
  const log = createAuditLog({ app: 'bank', sink, signer, checkpoints, checkpointEveryRecords: 5, flushOnExit: false });
  for (let i = 0; i < 20; i++)
    log.record({ event: i % 3 === 0 ? 'authz_fail' : 'sensitive_read', user: `u${i}`, object: `account:${i}` });
  await log.close();
  const verify = (lines: readonly string[], notes: readonly string[] = checkpoints.stored) =>
    verifyLog({ lines, checkpoints: notes, publicKey: signer.verifierKey });
  return { lines: [...sink.stored], notes: [...checkpoints.stored], verify, signer };
}

const kinds = (r: VerifyResult) => r.problems.map((p) => `${p.kind}@${p.seq ?? '-'}`);

describe('tamper evidence', () => {
  it('an untouched log verifies: every checkpoint, no uncovered records', async () => {
    const { lines, verify } = await signedLog();
    expect(await verify(lines)).toMatchObject({ ok: true, records: 20, checkpoints: 4, uncovered: 0, problems: [] });
  });

  it('an edited field is found, located to the records between two checkpoints', async () => {
    const { lines, verify } = await signedLog();
    lines[7] = lines[7]!.replace('"userid":"u7"', '"userid":"admin"');
    const result = await verify(lines);
    expect(result.ok).toBe(false);
    expect(kinds(result)).toEqual(['root@5', 'root@5', 'root@5']);
    expect(result.problems[0]!.message).toMatch(/records 5\.\.9/);
  });

  it('a change that keeps the JSON equal (whitespace) is still found: the exact bytes are hashed', async () => {
    const { lines, verify } = await signedLog();
    lines[12] = lines[12]!.replace('{"seq":12,', '{"seq": 12,');
    expect(kinds(await verify(lines))).toEqual(['root@10', 'root@10']);
  });

  it('a removed record is found by its seq gap', async () => {
    const { lines, verify } = await signedLog();
    lines.splice(7, 1);
    const result = await verify(lines);
    expect(kinds(result)).toContain('seq@7');
    expect(result.problems.find((p) => p.kind === 'seq')!.message).toMatch(/records 7\.\.7 are missing/);
  });

  it('an inserted record is found, even with every later seq renumbered', async () => {
    const { lines, verify } = await signedLog();
    const forged = lines[7]!.replace('"userid":"u7"', '"userid":"mallory"');
    const renumbered = [...lines.slice(0, 8), forged, ...lines.slice(8)].map((l, i) =>
      l.replace(/^\{"seq":\d+,/, `{"seq":${i},`),
    );
    const result = await verify(renumbered);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ kind: 'root', seq: 5 });
  });

  it('reordered records are found', async () => {
    const { lines, verify } = await signedLog();
    [lines[7], lines[8]] = [lines[8]!, lines[7]!];
    const result = await verify(lines);
    expect(kinds(result)).toEqual(expect.arrayContaining(['seq@7', 'seq@8']));
  });

  it('a duplicated record is found', async () => {
    const { lines, verify } = await signedLog();
    lines.splice(3, 0, lines[3]!);
    expect(kinds(await verify(lines))).toContain('seq@4');
  });

  it('a cut tail is found against the last checkpoint', async () => {
    const { lines, verify } = await signedLog();
    const result = await verify(lines.slice(0, 17));
    expect(kinds(result)).toEqual(['truncated@17']);
    expect(result.problems[0]!.message).toMatch(/records 17\.\.19 were removed/);
  });

  it('a cut tail with its checkpoint also removed is not found: why checkpoints live elsewhere (a witness)', async () => {
    const { lines, notes, verify } = await signedLog();
    const result = await verify(lines.slice(0, 17), notes.slice(0, 3));
    expect(result).toMatchObject({ ok: true, records: 17, uncovered: 2 });
    // The same cut against the witness's copy of the checkpoints:
    expect((await verify(lines.slice(0, 17), notes)).ok).toBe(false);
  });

  it('records appended after the last checkpoint are reported as not signed for', async () => {
    const { lines, verify } = await signedLog();
    const forged = lines[19]!.replace('"seq":19', '"seq":20').replace('"userid":"u19"', '"userid":"mallory"');
    expect(await verify([...lines, forged])).toMatchObject({ ok: true, records: 21, uncovered: 1 });
  });

  it('an edited checkpoint, or one signed by another key, does not count and is reported', async () => {
    const { lines, notes, verify } = await signedLog();
    const edited = notes[3]!.replace('\n20\n', '\n21\n');
    expect(kinds(await verify(lines, [...notes.slice(0, 3), edited]))).toEqual(['signature@-']);
    const attacker = testSigner('test-audit');
    const rewritten = lines.map((l) => l.replace('"userid":"u1"', '"userid":"mallory"'));
    const forgedNote = attacker.sign({ origin: 'bank/audit', size: 20, root: Buffer.alloc(32) });
    const result = await verify(rewritten, [forgedNote]);
    expect(result.ok).toBe(false);
    expect(kinds(result)).toEqual(['signature@-']);
  });

  it('two signed checkpoints of one size that disagree are a fork; the same one twice is not', async () => {
    const { lines, notes, verify, signer } = await signedLog();
    expect((await verify(lines, [...notes, notes[1]!])).ok).toBe(true);
    const other = signer.sign({ origin: 'bank/audit', size: 10, root: leafHash('another history') });
    expect(kinds(await verify(lines, [...notes, other]))).toEqual(['fork@10']);
  });

  it('a line that is not a record is reported where it is', async () => {
    const { lines, verify } = await signedLog();
    lines[4] = 'not json';
    expect(kinds(await verify(lines))).toEqual(['root@0', 'root@0', 'root@0', 'root@0', 'parse@4']);
  });
});
