import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkpointSigner, checkpointVerifier, verifyCheckpoint } from './checkpoint.js';
import { checkpointFile } from './checkpoint-store.js';
import { fileLogLines } from './file-sink.js';
import type { PgQueryable } from './postgres-sink.js';
import { postgresLines } from './postgres-sink.js';
import { proveRecord, verifyRecordProof, type RecordProof } from './record-proof.js';
import { verifyLog } from './verify-log.js';

const usage = `Usage:
  bulwark-audit verify <log file | postgres://...> --checkpoints <file> --pubkey <key | key file> [--table name] [--json]
  bulwark-audit prove  <log file | postgres://...> --seq <n> --checkpoints <file> --pubkey <key | key file> [--table name]
  bulwark-audit check-proof <proof.json> --checkpoints <file> --pubkey <key | key file>
  bulwark-audit keygen --name <key name> --out <path prefix>

verify      recomputes the hash tree from the stored bytes, checks every seq and signed checkpoint, and prints the
            first bad record. Exit 0: intact; 1: problems found; 2: usage or input error.
prove       prints an inclusion proof (JSON) of one record against the latest signed checkpoint.
check-proof checks such a proof against the checkpoints, without the log.
keygen      writes <prefix>.key (Ed25519 private key, PEM, mode 600) and <prefix>.pub (verifier key).`;

class UsageError extends Error {}

function readKey(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--pubkey is required');
  return existsSync(value) ? readFileSync(value, 'utf8').trim() : value;
}

async function pgLines(url: string, table: string) {
  let pg: { default?: { Pool: new (o: object) => PgQueryable & { end(): Promise<void> } } };
  try {
    pg = await import('pg');
  } catch {
    throw new UsageError('reading from PostgreSQL needs the "pg" package: npm install pg');
  }
  const Pool = pg.default!.Pool;
  const pool = new Pool({ connectionString: url, max: 1 });
  return {
    lines: (async function* () {
      for await (const row of postgresLines(pool, table)) yield row.line;
    })(),
    close: () => pool.end(),
  };
}

async function openLog(source: string, table: string) {
  if (/^postgres(ql)?:\/\//.test(source)) return pgLines(source, table);
  if (!existsSync(source)) throw new UsageError(`no such log: ${source}`);
  return { lines: fileLogLines(source), close: async () => {} };
}

async function latestCheckpoint(checkpoints: string, pubkey: string) {
  const verifier = checkpointVerifier(pubkey);
  let latest: ReturnType<typeof verifyCheckpoint>;
  for await (const note of checkpointFile(checkpoints).notes()) {
    const cp = verifyCheckpoint(note, verifier);
    if (cp !== undefined && (latest === undefined || cp.size > latest.size)) latest = cp;
  }
  return latest;
}

/** Where the CLI prints: `process.stdout` / `process.stderr`, or anything with `write`. */
export interface Output {
  write(text: string): unknown;
}

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: readonly string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  const say = (text: string) => void out.write(`${text}\n`);
  try {
    const { positionals, values } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        checkpoints: { type: 'string' },
        pubkey: { type: 'string' },
        table: { type: 'string', default: 'bulwark_audit_log' },
        seq: { type: 'string' },
        name: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [command, source] = positionals;
    if (values.help || command === undefined) {
      say(usage);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'keygen') {
      if (values.name === undefined || values.out === undefined) throw new UsageError('keygen needs --name and --out');
      const { privateKey } = generateKeyPairSync('ed25519');
      const signer = checkpointSigner({ privateKey, name: values.name });
      writeFileSync(`${values.out}.key`, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      writeFileSync(`${values.out}.pub`, `${signer.verifierKey}\n`);
      say(signer.verifierKey);
      return 0;
    }
    if (values.checkpoints === undefined) throw new UsageError('--checkpoints is required');
    const pubkey = readKey(values.pubkey);
    if (command === 'check-proof') {
      if (source === undefined) throw new UsageError('check-proof needs a proof file');
      const proof = JSON.parse(readFileSync(source, 'utf8')) as RecordProof;
      const verifier = checkpointVerifier(pubkey);
      for await (const note of checkpointFile(values.checkpoints).notes()) {
        const cp = verifyCheckpoint(note, verifier);
        if (cp !== undefined && cp.size === proof.size && verifyRecordProof(proof, cp)) {
          say(`ok: record ${proof.seq} is in the log of ${cp.size} records signed by ${cp.signers.join(', ')}`);
          return 0;
        }
      }
      say(`FAIL: no signed checkpoint of size ${proof.size} confirms record ${proof.seq}`);
      return 1;
    }
    if (source === undefined) throw new UsageError(`${command} needs a log file or a postgres:// URL`);
    const log = await openLog(source, values.table);
    try {
      if (command === 'verify') {
        const result = await verifyLog({
          lines: log.lines,
          checkpoints: checkpointFile(values.checkpoints).notes(),
          publicKey: pubkey,
        });
        if (values.json) {
          say(
            JSON.stringify({
              ...result,
              latest: result.latest && { size: result.latest.size, time: result.latest.time },
            }),
          );
        } else {
          say(
            `${result.ok ? 'ok' : 'FAIL'}: ${result.records} records, ${result.checkpoints} signed checkpoint(s) verified`,
          );
          if (result.latest) say(`latest checkpoint: ${result.latest.size} records`);
          if (result.uncovered > 0)
            say(`${result.uncovered} record(s) after the latest checkpoint (not yet signed for)`);
          if (result.partialTail) say('the last line was cut mid-write (a crash); it is not a record');
          for (const p of result.problems) say(`${p.kind}${p.seq === undefined ? '' : ` at ${p.seq}`}: ${p.message}`);
        }
        return result.ok ? 0 : 1;
      }
      if (command === 'prove') {
        const seq = Number(values.seq);
        if (!Number.isSafeInteger(seq) || seq < 0) throw new UsageError('--seq must be a record number');
        const latest = await latestCheckpoint(values.checkpoints, pubkey);
        if (latest === undefined) throw new UsageError('no checkpoint signed by that key');
        say(JSON.stringify(await proveRecord(log.lines, seq, latest.size), null, 2));
        return 0;
      }
      throw new UsageError(`unknown command: ${command}`);
    } finally {
      await log.close();
    }
  } catch (error) {
    err.write(`bulwark-audit: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof UsageError) err.write(`\n${usage}\n`);
    return 2;
  }
}
