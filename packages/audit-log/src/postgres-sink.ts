import { durationMsSchema, parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';
import type { AuditRecord } from './audit-record.js';
import type { AuditSink, SinkHost } from './audit-sink.js';

/** The part of a node-postgres `Pool` (or `Client`) the sink uses. */
export interface PgQueryable {
  /** Runs one parameterised statement. */
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions {
  /** Table name, optionally schema-qualified. Default `bulwark_audit_log`. Create it with {@link postgresMigration}. */
  table?: string;
  /** Most lines held while the database is away (default 10 000); past it, records are counted as dropped. */
  maxQueued?: number;
  /** Most rows per INSERT (default 500). */
  batchSize?: number;
  /** First wait before retrying a failed write, in ms (default 500); doubles up to 30 s. */
  retryMs?: number;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

const optionsSchema = z
  .object({
    table: z
      .string()
      .regex(identifier, 'must be a lower-case SQL identifier, optionally schema.table')
      .default('bulwark_audit_log'),
    maxQueued: z.number().int().positive().default(10_000),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    retryMs: durationMsSchema.default(500),
  })
  .strict();

/**
 * The SQL that creates the audit table: one row per record (`seq`, the exact `line`), append-only by trigger, so
 * UPDATE, DELETE and TRUNCATE fail for every role but one that drops the trigger (which the hash tree then exposes).
 * Run it in a migration; the sink never alters the schema itself.
 *
 * @example
 * ```ts
 * await pool.query(postgresMigration('bulwark_audit_log'));
 * ```
 */
export function postgresMigration(table = 'bulwark_audit_log'): string {
  parseOptions(optionsSchema.shape.table, table, 'postgresMigration()', ['table']);
  const base = table.replace('.', '_');
  return `CREATE TABLE IF NOT EXISTS ${table} (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  line text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION ${base}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit table % is append-only', TG_TABLE_NAME;
END
$$;
CREATE OR REPLACE TRIGGER ${base}_no_change BEFORE UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION ${base}_append_only();
CREATE OR REPLACE TRIGGER ${base}_no_truncate BEFORE TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${base}_append_only();
`;
}

/** Reads every stored line of an audit table in `seq` order, a page at a time. */
export async function* postgresLines(db: PgQueryable, table = 'bulwark_audit_log', pageSize = 5000) {
  parseOptions(optionsSchema.shape.table, table, 'postgresLines()', ['table']);
  let next = 0;
  for (;;) {
    const { rows } = await db.query(`SELECT seq, line FROM ${table} WHERE seq >= $1 ORDER BY seq LIMIT $2`, [
      next,
      pageSize,
    ]);
    for (const row of rows) yield { seq: Number(row.seq), line: String(row.line) };
    if (rows.length < pageSize) return;
    next = Number(rows[rows.length - 1]!.seq) + 1;
  }
}

interface Row {
  readonly seq: number;
  readonly line: string;
}

class PostgresSink implements AuditSink {
  readonly name: string;
  readonly exact = true;
  readonly #db: PgQueryable;
  readonly #o: z.output<typeof optionsSchema>;
  #host: SinkHost | undefined;
  #queue: Row[] = [];
  #writing: Promise<void> | undefined;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(db: PgQueryable, options: z.output<typeof optionsSchema>) {
    this.#db = db;
    this.#o = options;
    this.#retryMs = options.retryMs;
    this.name = `postgres:${options.table}`;
  }

  get full(): boolean {
    return this.#queue.length >= this.#o.maxQueued;
  }

  get queued(): number {
    return this.#queue.length;
  }

  open(host: SinkHost): AsyncIterable<string> {
    this.#host = host;
    const db = this.#db;
    const { table, retryMs } = this.#o;
    return (async function* resume() {
      // The log cannot number new records before it knows the stored ones: wait for the database, reporting.
      for (let wait = retryMs; ; wait = Math.min(wait * 2, 30_000)) {
        try {
          const lines: string[] = [];
          let expected = 0;
          for await (const row of postgresLines(db, table)) {
            if (row.seq !== expected) throw new Error(`${table}: seq ${expected} is missing (found ${row.seq})`);
            expected++;
            lines.push(row.line);
          }
          yield* lines;
          return;
        } catch (error) {
          if (error instanceof Error && error.message.includes('is missing')) throw error;
          host.error(error);
          await new Promise((resolve) => setTimeout(resolve, wait).unref());
        }
      }
    })();
  }

  write(line: string, record: AuditRecord): void {
    this.#queue.push({ seq: record.seq, line });
    this.#kick();
  }

  #kick(): void {
    if (this.#writing === undefined && this.#timer === undefined && this.#queue.length > 0) {
      this.#writing = this.#writeBatch().finally(() => {
        this.#writing = undefined;
        if (this.#queue.length === 0) {
          for (const resolve of this.#waiters.splice(0)) resolve();
        } else if (this.#timer === undefined) this.#kick();
      });
    }
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.slice(0, this.#o.batchSize);
    try {
      const { rows } = await this.#db.query(
        `INSERT INTO ${this.#o.table} (seq, line) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (seq) DO NOTHING RETURNING seq`,
        [batch.map((r) => r.seq), batch.map((r) => r.line)],
      );
      if (rows.length !== batch.length) await this.#checkConflicts(batch, rows);
      this.#queue.splice(0, batch.length);
      this.#retryMs = this.#o.retryMs;
    } catch (error) {
      this.#host?.error(error);
      if (this.#closed) return;
      // The rows stay queued; a retry after a timeout whose INSERT did commit meets them as conflicts, checked above.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#kick();
      }, this.#retryMs).unref();
      this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
    }
  }

  /** Rows that were already there: fine when they hold the same line (a retried INSERT), an error otherwise. */
  async #checkConflicts(batch: readonly Row[], inserted: readonly Record<string, unknown>[]): Promise<void> {
    const done = new Set(inserted.map((r) => Number(r.seq)));
    const others = batch.filter((r) => !done.has(r.seq));
    const { rows } = await this.#db.query(`SELECT seq, line FROM ${this.#o.table} WHERE seq = ANY($1::bigint[])`, [
      others.map((r) => r.seq),
    ]);
    const stored = new Map(rows.map((r) => [Number(r.seq), String(r.line)]));
    for (const row of others) {
      if (stored.get(row.seq) !== row.line) {
        this.#host?.error(
          new Error(`${this.#o.table}: seq ${row.seq} already holds another record (two writers on one table?)`),
        );
      }
    }
  }

  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#writing === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#kick();
    await this.#writing;
    this.#closed = true;
    if (this.#queue.length > 0) {
      this.#host?.error(new Error(`${this.name}: closed with ${this.#queue.length} line(s) not written`));
    }
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  async *lines(): AsyncIterable<string> {
    for await (const row of postgresLines(this.#db, this.#o.table)) yield row.line;
  }
}

/**
 * A sink that writes records to PostgreSQL (node-postgres `Pool` or anything with its `query`), in batches, one
 * row per record with the exact line, so the same verifier checks it. While the database is away, records queue
 * (bounded by `maxQueued`) and are written when it returns; past the bound they are counted as dropped and the log
 * records how many once writes resume.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await pool.query(postgresMigration());
 * const audit = createAuditLog({ app: 'orders', sink: postgresSink(pool) });
 * ```
 */
export function postgresSink(db: PgQueryable, options: PostgresSinkOptions = {}): AuditSink {
  return new PostgresSink(db, parseOptions(optionsSchema, options, 'postgresSink()'));
}
