import { hostname as osHostname } from 'node:os';
import { bulwarkChannel, Emitter, functionSchema, nameSchema, parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';
import {
  auditEventSchema,
  buildRecord,
  invalidRecord,
  recordLine,
  type AuditEvent,
  type AuditRecord,
  type RecordContext,
} from './audit-record.js';
import type { AuditSink, SinkHost } from './audit-sink.js';
import type { CheckpointSigner, SignedCheckpoint } from './checkpoint.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { leafHash, MerkleAccumulator } from './merkle.js';
import { recordFilter, type AuditQuery } from './query.js';
import { sensitiveKeyTest, type RedactOptions } from './redactor.js';

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  /** The application: its id (`appid` on every record), or `{ id, version }`. */
  app: string | { id: string; version?: string };
  /** Where records go: {@link fileSink}, {@link postgresSink}, {@link pinoSink}, {@link memorySink}. */
  sink: AuditSink;
  /** `hostname` on every record. Default `os.hostname()`. */
  hostname?: string;
  /** More key names to redact, and the caps on what is written. */
  redact?: RedactOptions;
  /** Key for the HMAC that replaces session ids. Without one they are plain SHA-256 (still never written raw). */
  sessionKey?: string | Buffer;
  /** Signs checkpoints (Ed25519). With it, `checkpoints` is required. */
  signer?: CheckpointSigner;
  /** Where signed checkpoints go: not beside the records (see {@link checkpointFile}). */
  checkpoints?: CheckpointStore;
  /** The log's name on its checkpoints. Default `<app id>/audit`. */
  origin?: string;
  /** Sign a checkpoint after this many records (default 1000)... */
  checkpointEveryRecords?: number;
  /** ...and every this many ms even when nothing was recorded (default 60 000), and at close or process exit. */
  checkpointEveryMs?: number;
  /** Records held while the sink reads back what it already stores (default 10 000); past it, counted as dropped. */
  maxPending?: number;
  /** Flush and sign a final checkpoint synchronously on `process.exit` (default true). */
  flushOnExit?: boolean;
  /** Current time in ms (default `Date.now`): for tests. */
  now?: () => number;
}

const redactSchema = z
  .object({
    keys: z.array(z.union([z.string().min(1), z.instanceof(RegExp)])).default([]),
    maxFieldLength: z.number().int().min(16).max(1_000_000).default(2048),
    maxDepth: z.number().int().min(1).max(64).default(8),
    maxEntries: z.number().int().min(1).max(100_000).default(100),
  })
  .strict();

const optionsSchema = z
  .object({
    app: z.union([nameSchema, z.object({ id: nameSchema, version: z.string().min(1).max(100).optional() }).strict()]),
    sink: z.custom<AuditSink>(
      (s) => typeof s === 'object' && s !== null && typeof (s as AuditSink).write === 'function',
      { message: 'expected a sink (fileSink(), postgresSink(), pinoSink(), memorySink())' },
    ),
    hostname: z.string().min(1).max(255).optional(),
    redact: redactSchema.default({ keys: [], maxFieldLength: 2048, maxDepth: 8, maxEntries: 100 }),
    sessionKey: z.union([z.string().min(16), z.instanceof(Buffer)]).optional(),
    signer: z
      .custom<CheckpointSigner>((s) => typeof (s as CheckpointSigner | undefined)?.sign === 'function', {
        message: 'expected a checkpointSigner()',
      })
      .optional(),
    checkpoints: z
      .custom<CheckpointStore>((s) => typeof (s as CheckpointStore | undefined)?.append === 'function', {
        message: 'expected a checkpoint store (checkpointFile())',
      })
      .optional(),
    origin: z
      .string()
      .regex(/^[^\s]{1,200}$/, 'must be non-empty, without spaces')
      .optional(),
    checkpointEveryRecords: z.number().int().positive().default(1000),
    checkpointEveryMs: z.number().int().min(1000).max(2_147_483_647).default(60_000),
    maxPending: z.number().int().positive().default(10_000),
    flushOnExit: z.boolean().default(true),
    now: functionSchema<() => number>().default(() => Date.now),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.signer !== undefined && o.checkpoints === undefined) {
      ctx.addIssue({ code: 'custom', path: ['checkpoints'], message: 'a signer needs somewhere to put checkpoints' });
    }
    if (o.signer !== undefined && !o.sink.exact) {
      ctx.addIssue({
        code: 'custom',
        path: ['signer'],
        message: `the ${o.sink.name} sink re-serialises records, so checkpoints could not be verified against it`,
      });
    }
  });

/** Counts of what the log did, for health checks and metrics. */
export interface AuditStats {
  /** Records handed to the sink (including `audit_invalid` and `audit_dropped` ones). */
  readonly written: number;
  /** Events that failed validation (each written as `audit_invalid`). */
  readonly invalid: number;
  /** Events lost because the sink (or the log, while resuming) was full. */
  readonly dropped: number;
  /** Sink failures reported (writes are retried while there is room). */
  readonly sinkErrors: number;
  /** Lines accepted but not yet stored, in the sink and the log. */
  readonly queued: number;
  /** Records in the log, including the ones it resumed from. */
  readonly size: number;
  /** Checkpoints signed by this process. */
  readonly checkpoints: number;
}

/** Published when events are lost (on `bulwark:audit-log:drop` too). */
export interface AuditDropEvent {
  readonly app: string;
  readonly sink: string;
  /** Events lost in this burst so far. */
  readonly count: number;
  readonly reason: 'sink-full' | 'resume-pending-full' | 'closed';
}

/** Published when a sink fails (on `bulwark:audit-log:error` too). */
export interface AuditErrorEvent {
  readonly app: string;
  readonly sink: string;
  readonly error: unknown;
}

/** Published when a checkpoint is signed and stored (on `bulwark:audit-log:checkpoint` too). */
export interface AuditCheckpointEvent {
  readonly app: string;
  readonly checkpoint: SignedCheckpoint;
}

// One process `exit` listener for every open log, however many there are (a listener each would trip Node's
// MaxListenersExceededWarning at eleven).
const exitHandlers = new Set<() => void>();
let exitListening = false;
function onProcessExit(handler: () => void): void {
  exitHandlers.add(handler);
  if (!exitListening) {
    exitListening = true;
    process.once('exit', () => {
      for (const h of exitHandlers) h();
    });
  }
}

const dropChannel = bulwarkChannel<AuditDropEvent>('audit-log', 'drop');
const errorChannel = bulwarkChannel<AuditErrorEvent>('audit-log', 'error');
const checkpointChannel = bulwarkChannel<AuditCheckpointEvent>('audit-log', 'checkpoint');

/**
 * A security audit log: records OWASP-vocabulary events as JSON lines with secrets redacted, in a hash tree whose
 * signed checkpoints make edits, removals, reordering and truncation detectable (`bulwark-audit verify`).
 */
export class AuditLog {
  readonly #sink: AuditSink;
  readonly #ctx: RecordContext;
  readonly #now: () => number;
  readonly #tree = new MerkleAccumulator();
  readonly #signer: CheckpointSigner | undefined;
  readonly #store: CheckpointStore | undefined;
  readonly #origin: string;
  readonly #everyRecords: number;
  readonly #maxPending: number;
  #pending: unknown[] | undefined; // events recorded while the sink resumes
  /** Records the log writes about itself once it can (a crash-cut line found at start). */
  readonly #pendingNotices: AuditEvent[] = [];
  #written = 0;
  #invalid = 0;
  #dropped = 0;
  #dropBurst = 0;
  #sinkErrors = 0;
  #checkpoints = 0;
  #sinceCheckpoint = 0;
  #signedSize = -1;
  #checkpointing: Promise<SignedCheckpoint | undefined> = Promise.resolve(undefined);
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onExit: (() => void) | undefined;
  readonly #dropEvents = new Emitter<AuditDropEvent>(dropChannel);
  readonly #errorEvents = new Emitter<AuditErrorEvent>(errorChannel);
  readonly #checkpointEvents = new Emitter<AuditCheckpointEvent>(checkpointChannel);

  /** Resolves when the log has read back what its sink stores and numbers new records after it. */
  readonly ready: Promise<void>;
  /** Calls `listener` when events are lost; returns a function that stops it. */
  readonly onDrop = this.#dropEvents.on;
  /** Calls `listener` when the sink fails; returns a function that stops it. */
  readonly onError = this.#errorEvents.on;
  /** Calls `listener` after each checkpoint is stored; returns a function that stops it. */
  readonly onCheckpoint = this.#checkpointEvents.on;

  constructor(options: z.output<typeof optionsSchema>) {
    const app = typeof options.app === 'string' ? { id: options.app, version: undefined } : options.app;
    this.#sink = options.sink;
    this.#now = options.now;
    this.#signer = options.signer;
    this.#store = options.checkpoints;
    this.#origin = options.origin ?? `${app.id}/audit`;
    this.#everyRecords = options.checkpointEveryRecords;
    this.#maxPending = options.maxPending;
    this.#ctx = {
      appid: app.id,
      appversion: app.version,
      hostname: options.hostname ?? osHostname(),
      sessionKey: typeof options.sessionKey === 'string' ? Buffer.from(options.sessionKey) : options.sessionKey,
      limits: { ...options.redact, isSensitive: sensitiveKeyTest(options.redact.keys) },
    };
    const host: SinkHost = {
      error: (error) => this.#reportError(error),
      recovered: (info) => this.#pendingNotices.push({ event: 'audit_recovered', data: info }),
    };
    const existing = this.#sink.open(host);
    if (existing === undefined) this.ready = Promise.resolve();
    else if (Symbol.iterator in existing) {
      for (const line of existing) this.#tree.append(leafHash(line));
      this.ready = Promise.resolve();
    } else {
      this.#pending = [];
      this.ready = this.#resume(existing);
    }
    if (this.#signer !== undefined) {
      // Failures are reported through onError by checkpoint() itself.
      const tick = () => void this.checkpoint().catch(() => {});
      this.#timer = setInterval(tick, options.checkpointEveryMs).unref();
    }
    if (options.flushOnExit) {
      this.#onExit = () => this.#flushOnExit();
      onProcessExit(this.#onExit);
    }
    this.#writeNotices();
  }

  #reportError(error: unknown): void {
    this.#sinkErrors++;
    if (this.#errorEvents.active) this.#errorEvents.emit({ app: this.#ctx.appid, sink: this.#sink.name, error });
  }

  async #resume(existing: AsyncIterable<string>): Promise<void> {
    try {
      for await (const line of existing) this.#tree.append(leafHash(line));
    } finally {
      const pending = this.#pending ?? [];
      this.#pending = undefined;
      this.#writeNotices();
      for (const event of pending) this.record(event as AuditEvent);
    }
  }

  #writeNotices(): void {
    if (this.#pending !== undefined) return;
    for (const notice of this.#pendingNotices.splice(0)) this.record(notice);
  }

  /** Records in the log (stored or queued), including those it resumed from. */
  get size(): number {
    return this.#tree.size;
  }

  /**
   * Records one event. Never throws: an event that fails validation is written as `audit_invalid` with the problem
   * and what could be read of it; a full sink counts a drop (reported, and recorded as `audit_dropped` once the
   * sink takes records again). Returns the record's `seq`, or `undefined` when it was not (yet) numbered.
   *
   * @example
   * ```ts
   * audit.record({ event: 'authn_login_fail', args: [user], user, sourceIp: req.ip, requestId, reason: 'bad password' });
   * ```
   */
  record(event: AuditEvent): number | undefined {
    if (this.#closed) {
      this.#drop('closed');
      return undefined;
    }
    if (this.#pending !== undefined) {
      if (this.#pending.length >= this.#maxPending) this.#drop('resume-pending-full');
      else this.#pending.push(event);
      return undefined;
    }
    if (this.#sink.full) {
      this.#drop('sink-full');
      return undefined;
    }
    if (this.#dropBurst > 0) {
      const count = this.#dropBurst;
      this.#dropBurst = 0;
      this.#append({ event: 'audit_dropped', args: [count], data: { count, sink: this.#sink.name } });
    }
    return this.#append(event);
  }

  #append(event: unknown): number {
    const seq = this.#tree.size;
    const now = this.#now();
    const parsed = auditEventSchema.safeParse(event);
    let record: AuditRecord;
    // Built from the caller's object once it validated: zod's copy of `data` would turn a `__proto__` key into a
    // prototype and lose it.
    if (parsed.success) record = buildRecord(event as AuditEvent, seq, now, this.#ctx);
    else {
      this.#invalid++;
      const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
      record = invalidRecord(event, problem, seq, now, this.#ctx);
    }
    const line = recordLine(record);
    this.#tree.append(leafHash(line));
    this.#written++;
    this.#sink.write(line, record);
    if (this.#signer !== undefined && ++this.#sinceCheckpoint >= this.#everyRecords) {
      this.#sinceCheckpoint = 0;
      this.checkpoint().catch(() => {}); // reported through onError
    }
    return seq;
  }

  #drop(reason: AuditDropEvent['reason']): void {
    this.#dropped++;
    this.#dropBurst++;
    if (this.#dropEvents.active) {
      this.#dropEvents.emit({ app: this.#ctx.appid, sink: this.#sink.name, count: this.#dropBurst, reason });
    }
    // Loud once per burst even with no listener: a security log that loses records must not do it silently.
    if (this.#dropBurst === 1) {
      process.emitWarning(`audit log ${this.#ctx.appid}: records are being dropped (${reason})`, {
        code: 'BULWARK_AUDIT_DROPPED',
      });
    }
  }

  /**
   * Signs a checkpoint over everything recorded so far, once the sink has stored it, and puts it in the
   * checkpoint store. Runs by itself every N records and T ms; call it before a planned handover.
   * Resolves to the checkpoint, or `undefined` without a signer.
   */
  checkpoint(): Promise<SignedCheckpoint | undefined> {
    const signer = this.#signer;
    const store = this.#store;
    if (signer === undefined || store === undefined) return Promise.resolve(undefined);
    this.#sinceCheckpoint = 0;
    // The size and root now, so checkpoints fall where they were asked for (every N records, exactly).
    const size = this.#tree.size;
    const root = this.#tree.root();
    // One at a time, in order, so the store's checkpoints never go back in size.
    const next = this.#checkpointing.then(async () => {
      // A checkpoint must not cover records the sink has not written yet: handed to the OS is enough (a killed
      // process loses nothing the OS holds; a power cut also loses what the fsync policy left unsynced, and the
      // verifier then reports those records missing, which they are).
      if (this.#sink.flushSync !== undefined) this.#sink.flushSync();
      else await this.#sink.flush();
      return this.#storeCheckpoint(signer, store, size, root);
    });
    // A failed checkpoint is reported and does not stop the ones after it.
    this.#checkpointing = next.catch((error: unknown) => {
      this.#reportError(error);
      return undefined;
    });
    return next;
  }

  async #storeCheckpoint(signer: CheckpointSigner, store: CheckpointStore, size: number, root: Buffer) {
    const time = this.#now();
    const note = signer.sign({ origin: this.#origin, size, root, time });
    await store.append(note);
    this.#signedSize = size;
    this.#checkpoints++;
    const checkpoint: SignedCheckpoint = { origin: this.#origin, size, root, time, note, signers: [signer.name] };
    if (this.#checkpointEvents.active) this.#checkpointEvents.emit({ app: this.#ctx.appid, checkpoint });
    return checkpoint;
  }

  #flushOnExit(): void {
    try {
      this.#sink.flushSync?.();
      const signer = this.#signer;
      if (signer !== undefined && this.#sink.flushSync !== undefined && this.#tree.size !== this.#signedSize) {
        const note = signer.sign({
          origin: this.#origin,
          size: this.#tree.size,
          root: this.#tree.root(),
          time: this.#now(),
        });
        void this.#store?.append(note);
      }
    } catch {
      // Exiting: nothing left to report to.
    }
  }

  /** Counts of what the log did. */
  stats(): AuditStats {
    return {
      written: this.#written,
      invalid: this.#invalid,
      dropped: this.#dropped,
      sinkErrors: this.#sinkErrors,
      queued: this.#sink.queued + (this.#pending?.length ?? 0),
      size: this.#tree.size,
      checkpoints: this.#checkpoints,
    };
  }

  /**
   * Streams the stored records that match `query`, oldest first, without loading the store into memory.
   *
   * @example
   * ```ts
   * for await (const r of audit.query({ event: 'authn_login_fail', since: Date.now() - 3_600_000 })) console.log(r);
   * ```
   */
  async *query(query: AuditQuery = {}): AsyncGenerator<AuditRecord> {
    const lines = this.#sink.lines?.();
    if (lines === undefined) throw new TypeError(`the ${this.#sink.name} sink cannot read records back`);
    const match = recordFilter(query);
    let left = query.limit ?? Infinity;
    if (left <= 0) return;
    for await (const line of lines) {
      let record: AuditRecord;
      try {
        record = JSON.parse(line) as AuditRecord;
      } catch {
        continue; // a damaged line: `verify` reports it; a query shows what can be read
      }
      if (match(record)) {
        yield record;
        if (--left === 0) return;
      }
    }
  }

  /**
   * The CRITICAL records: `query({ ...query, severity: 'CRITICAL' })`.
   *
   * @example
   * ```ts
   * for await (const r of audit.critical({ since: yesterday })) alert(r);
   * ```
   */
  critical(query: Omit<AuditQuery, 'severity'> = {}): AsyncGenerator<AuditRecord> {
    return this.query({ ...query, severity: 'CRITICAL' });
  }

  /** Resolves once everything recorded so far is stored by the sink. */
  async flush(): Promise<void> {
    await this.ready;
    await this.#sink.flush();
  }

  /** Stores what is queued, signs a final checkpoint, and releases the sink. Records after this are dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.ready;
    if (this.#signer !== undefined && this.#tree.size !== this.#signedSize) await this.checkpoint();
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#onExit !== undefined) exitHandlers.delete(this.#onExit);
    await this.#checkpointing;
    await this.#sink.close();
  }
}

/**
 * Creates an audit log. Options are checked here, once: a bad one throws `BulwarkConfigError` naming it.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { checkpointFile, checkpointSigner, createAuditLog, fileSink } from '@bulwark/audit-log';
 *
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const audit = createAuditLog({
 *   app: { id: 'orders', version: '1.4.2' },
 *   sink: fileSink('audit.jsonl'),
 *   signer: checkpointSigner({ privateKey, name: 'orders-audit' }),
 *   checkpoints: checkpointFile('/mnt/witness/orders.checkpoints'),
 * });
 * audit.record({ event: 'authn_login_success', args: ['joebob1'], user: 'joebob1', sourceIp: '203.0.113.7' });
 * ```
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  return new AuditLog(parseOptions(optionsSchema, options, 'createAuditLog()'));
}
