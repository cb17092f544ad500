import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { faultProxy } from '@bulwark/testing';
import { createAuditLog } from '../src/audit-log.js';
import { memoryCheckpoints } from '../src/checkpoint-store.js';
import { main } from '../src/cli.js';
import { postgresLines, postgresMigration, postgresSink } from '../src/postgres-sink.js';
import { verifyLog } from '../src/verify-log.js';
import { collect, tempDir, testSigner } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
admin.on('error', () => {});
const available = await admin.query('SELECT 1').then(
  () => true,
  (error: Error) => {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${PG_URL} is required in CI: ${error.message}`);
    console.warn(
      `\n!!! PostgreSQL at ${PG_URL} is not reachable (${error.message}): the Postgres sink tests are SKIPPED\n`,
    );
    return false;
  },
);
const tables: string[] = [];
afterAll(async () => {
  if (available)
    for (const t of tables) await admin.query(`DROP TABLE IF EXISTS ${t}; DROP FUNCTION IF EXISTS ${t}_append_only()`);
  await admin.end();
});
async function newTable(): Promise<string> {
  const table = `bulwark_audit_${randomBytes(4).toString('hex')}`;
  tables.push(table);
  await admin.query(postgresMigration(table));
  return table;
}

describe.skipIf(!available)('postgresSink (real PostgreSQL)', () => {
  it('writes one row per record with the exact line, and the same verifier checks it', async () => {
    const table = await newTable();
    const signer = testSigner();
    const checkpoints = memoryCheckpoints();
    const audit = createAuditLog({
      app: 'orders',
      sink: postgresSink(admin, { table }),
      signer,
      checkpoints,
      checkpointEveryRecords: 4,
    });
    await audit.ready;
    for (let i = 0; i < 10; i++)
      audit.record({ event: 'sensitive_read', args: [`u${i}`], data: { note: 'ünïcödé \u2028 ok' } });
    await audit.close();
    const rows = await collect(postgresLines(admin, table));
    expect(rows.map((r) => r.seq)).toEqual([...Array(10).keys()]);
    const result = await verifyLog({
      lines: rows.map((r) => r.line),
      checkpoints: checkpoints.stored,
      publicKey: signer.verifierKey,
    });
    expect(result).toMatchObject({ ok: true, records: 10, uncovered: 0 });
  });

  it('the table is append-only: UPDATE, DELETE and TRUNCATE fail', async () => {
    const table = await newTable();
    const audit = createAuditLog({ app: 'orders', sink: postgresSink(admin, { table }) });
    audit.record({ event: 'authz_admin' });
    await audit.close();
    await expect(admin.query(`UPDATE ${table} SET line = 'x'`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
  });

  it('a restarted log reads the table back and continues its sequence and tree', async () => {
    const table = await newTable();
    const signer = testSigner();
    const checkpoints = memoryCheckpoints();
    const first = createAuditLog({ app: 'orders', sink: postgresSink(admin, { table }), signer, checkpoints });
    first.record({ event: 'sys_startup' }); // queued until the table is read back
    await first.close();
    const second = createAuditLog({ app: 'orders', sink: postgresSink(admin, { table }), signer, checkpoints });
    expect(second.record({ event: 'sys_restart' })).toBeUndefined(); // not numbered before the read-back
    await second.ready;
    expect(second.record({ event: 'sys_shutdown' })).toBe(2);
    await second.close();
    const lines = (await collect(postgresLines(admin, table))).map((r) => r.line);
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      'sys_startup',
      'sys_restart',
      'sys_shutdown',
    ]);
    expect(await verifyLog({ lines, checkpoints: checkpoints.stored, publicKey: signer.verifierKey })).toMatchObject({
      ok: true,
      records: 3,
    });
  });

  it('the database going away mid-stream: records queue (bounded), are written when it returns, drops are counted and recorded', async () => {
    const table = await newTable();
    const proxy = await faultProxy({ port: 5432 });
    const url = new URL(PG_URL);
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: proxy.port,
      user: url.username,
      database: url.pathname.slice(1),
      max: 2,
      connectionTimeoutMillis: 500,
    });
    pool.on('error', () => {}); // idle clients whose link is cut: node-postgres emits these on the pool
    const signer = testSigner();
    const checkpoints = memoryCheckpoints();
    const audit = createAuditLog({
      app: 'orders',
      sink: postgresSink(pool, { table, maxQueued: 5, retryMs: 20 }),
      signer,
      checkpoints,
    });
    const errors: unknown[] = [];
    audit.onError((e) => errors.push(e.error));
    await audit.ready;
    for (let i = 0; i < 3; i++) audit.record({ event: 'thing_happened', args: [i] });
    await audit.flush();
    proxy.close(); // the database goes away
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    for (let i = 3; i < 12; i++) audit.record({ event: 'thing_happened', args: [i] });
    warning.mockRestore();
    expect(audit.stats()).toMatchObject({ queued: 5, dropped: 4 });
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5000 });
    proxy.pass(); // and comes back
    await audit.flush();
    audit.record({ event: 'thing_happened', args: [12] });
    await audit.close();
    const lines = (await collect(postgresLines(admin, table))).map((r) => r.line);
    const events = lines.map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual([
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `thing_happened:${i}`),
      'audit_dropped:4',
      'thing_happened:12',
    ]);
    expect(await verifyLog({ lines, checkpoints: checkpoints.stored, publicKey: signer.verifierKey })).toMatchObject({
      ok: true,
      records: 10,
    });
    await pool.end();
    await proxy.stop();
  }, 20_000);

  it('bulwark-audit verify reads a postgres:// URL', async () => {
    const table = await newTable();
    const signer = testSigner();
    const dir = tempDir();
    const cpPath = join(dir, 'cp');
    const { checkpointFile } = await import('../src/checkpoint-store.js');
    const audit = createAuditLog({
      app: 'orders',
      sink: postgresSink(admin, { table }),
      signer,
      checkpoints: checkpointFile(cpPath),
    });
    audit.record({ event: 'authn_login_success' });
    await audit.close();
    writeFileSync(join(dir, 'pub'), signer.verifierKey);
    let printed = '';
    const out = { write: (s: string) => (printed += s) };
    expect(
      await main(['verify', PG_URL, '--table', table, '--checkpoints', cpPath, '--pubkey', join(dir, 'pub')], out, out),
    ).toBe(0);
    expect(printed).toMatch(/^ok: 1 records/);
    await admin.query(
      `ALTER TABLE ${table} DISABLE TRIGGER USER; UPDATE ${table} SET line = replace(line, 'authn', 'authz'); ALTER TABLE ${table} ENABLE TRIGGER USER`,
    );
    printed = '';
    expect(
      await main(['verify', PG_URL, '--table', table, '--checkpoints', cpPath, '--pubkey', join(dir, 'pub')], out, out),
    ).toBe(1);
    expect(printed).toMatch(/root at 0/);
  });

  it('rejects a table name that is not a plain identifier', () => {
    expect(() => postgresSink(admin, { table: 'x; DROP TABLE y' })).toThrow(/table/);
    expect(() => postgresMigration('Robert"); --')).toThrow(/table/);
  });
});
