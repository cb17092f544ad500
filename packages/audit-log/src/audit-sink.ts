import type { AuditRecord } from './audit-record.js';

/** What a sink tells the log it serves: failures and lost lines, so neither goes unreported. */
export interface SinkHost {
  /** A write failed (it will be retried while the sink's queue has room). */
  error(error: unknown): void;
  /** A line a crash left half-written was cut from the end of the store (the log records `audit_recovered`). */
  recovered(info: { discardedBytes: number; sha256: string }): void;
}

/**
 * Where records go. A sink stores lines in the order given and reports failures to its host; it never throws from
 * `write`. Bulwark ships {@link fileSink}, {@link postgresSink}, {@link pinoSink} and {@link memorySink}.
 */
export interface AuditSink {
  /** A name for messages: `file:/var/log/audit.jsonl`. */
  readonly name: string;
  /**
   * True when the sink stores each line byte for byte, so the hash tree and signed checkpoints describe what it
   * holds (file, Postgres, memory). A sink that re-serialises (pino) cannot carry tamper evidence.
   */
  readonly exact: boolean;
  /**
   * Called once by the log. Returns the lines already stored (oldest first), so a restarted log continues their
   * sequence numbers and hash tree; `undefined` when the sink starts empty every time.
   */
  open(host: SinkHost): Iterable<string> | AsyncIterable<string> | undefined;
  /** True while the sink cannot take another line (its bounded queue is full): the log counts a drop instead. */
  readonly full: boolean;
  /** Lines accepted but not yet stored. */
  readonly queued: number;
  /** Stores one line (without its newline); `record` is the same record as an object, `seq` its position. */
  write(line: string, record: AuditRecord): void;
  /** Resolves once every line written so far is stored (and synced, where the sink syncs). */
  flush(): Promise<void>;
  /**
   * Hands what is queued to the OS synchronously (no fsync unless the sink syncs every write): what a checkpoint
   * and process exit need. Absent where that is impossible (a database).
   */
  flushSync?(): void;
  /** Flushes and releases the sink. */
  close(): Promise<void>;
  /** Every stored line, oldest first, read as a stream. Absent where the sink cannot read back (pino). */
  lines?(): AsyncIterable<string> | Iterable<string>;
}
