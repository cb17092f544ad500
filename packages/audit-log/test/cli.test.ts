import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/audit-log.js';
import { checkpointFile } from '../src/checkpoint-store.js';
import { main } from '../src/cli.js';
import { fileSink } from '../src/file-sink.js';
import { tempDir } from './helpers.js';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const stream = (write: (s: string) => void) => ({ write });
  const code = await main(
    args,
    stream((s) => (out += s)),
    stream((s) => (err += s)),
  );
  return { code, out, err };
}

/** keygen, then a log of `count` records signed with the key. */
async function setup(count = 12) {
  const dir = tempDir();
  const keygen = await run('keygen', '--name', 'orders-audit', '--out', join(dir, 'audit'));
  expect(keygen.code).toBe(0);
  const paths = {
    dir,
    log: join(dir, 'audit.jsonl'),
    cp: join(dir, 'audit.checkpoints'),
    pub: join(dir, 'audit.pub'),
    key: join(dir, 'audit.key'),
  };
  const { checkpointSigner } = await import('../src/checkpoint.js');
  const audit = createAuditLog({
    app: 'orders',
    sink: fileSink(paths.log),
    signer: checkpointSigner({ privateKey: readFileSync(paths.key, 'utf8'), name: 'orders-audit' }),
    checkpoints: checkpointFile(paths.cp),
    checkpointEveryRecords: 5,
  });
  for (let i = 0; i < count; i++) audit.record({ event: 'sensitive_read', args: [`u${i}`] });
  await audit.close();
  return { ...paths, verifierKey: keygen.out.trim() };
}

describe('bulwark-audit', () => {
  it('keygen writes a private key only its owner can read, and the verifier key', async () => {
    const p = await setup(0);
    expect(statSync(p.key).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.pub, 'utf8').trim()).toBe(p.verifierKey);
    expect(p.verifierKey).toMatch(/^orders-audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
  });

  it('verify: exit 0 and a summary for an intact log; the key may be given inline or as a file', async () => {
    const p = await setup();
    for (const pubkey of [p.pub, p.verifierKey]) {
      const r = await run('verify', p.log, '--checkpoints', p.cp, '--pubkey', pubkey);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out).toBe('ok: 12 records, 3 signed checkpoint(s) verified\nlatest checkpoint: 12 records\n');
    }
    const json = await run('verify', p.log, '--checkpoints', p.cp, '--pubkey', p.pub, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, records: 12, latest: { size: 12 } });
  });

  it('verify: exit 1 and the first bad record for a tampered log', async () => {
    const p = await setup();
    const lines = readFileSync(p.log, 'utf8').split('\n');
    lines[6] = lines[6]!.replace('u6', 'u9');
    writeFileSync(p.log, lines.join('\n'));
    const r = await run('verify', p.log, '--checkpoints', p.cp, '--pubkey', p.pub);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe('FAIL: 12 records, 1 signed checkpoint(s) verified');
    expect(r.out).toContain('root at 5: records 5..9 do not match the checkpoint');
  });

  it('prove and check-proof: one record against the latest checkpoint, without the rest of the log', async () => {
    const p = await setup();
    const proof = await run('prove', p.log, '--seq', '7', '--checkpoints', p.cp, '--pubkey', p.pub);
    expect(proof.code).toBe(0);
    const parsed = JSON.parse(proof.out) as { seq: number; size: number; proof: string[]; line: string };
    expect(parsed).toMatchObject({ seq: 7, size: 12 });
    expect(parsed.proof.length).toBeGreaterThan(0);
    writeFileSync(join(p.dir, 'proof.json'), proof.out);
    expect(await run('check-proof', join(p.dir, 'proof.json'), '--checkpoints', p.cp, '--pubkey', p.pub)).toMatchObject(
      {
        code: 0,
        out: 'ok: record 7 is in the log of 12 records signed by orders-audit\n',
      },
    );
    writeFileSync(join(p.dir, 'forged.json'), JSON.stringify({ ...parsed, line: parsed.line.replace('u7', 'u8') }));
    expect((await run('check-proof', join(p.dir, 'forged.json'), '--checkpoints', p.cp, '--pubkey', p.pub)).code).toBe(
      1,
    );
  });

  it.each([
    [[], /Usage/],
    [['verify', '/nonexistent.jsonl', '--checkpoints', 'x', '--pubkey', 'a+00000000+AA=='], /not a valid|no such log/],
    [['verify', 'x.jsonl', '--pubkey', 'k'], /--checkpoints is required/],
    [['frobnicate', 'x', '--checkpoints', 'x', '--pubkey', 'orders+00000000+AA=='], /./],
    [['keygen', '--name', 'x'], /keygen needs --name and --out/],
    [['verify', '--bogus'], /Unknown option/],
  ])('usage errors exit 2 with a message: %j', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(message);
  });
});
