import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { durationMsSchema, parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';
import type { AuditSink, SinkHost } from './audit-sink.js';
import { readLines, readLinesSync } from './line-reader.js';

/** Options of {@link fileSink}. */
export interface FileSinkOptions {
  /**
   * When written lines are forced to disk: `'always'` before `record()` returns (slowest, nothing acknowledged is
   * ever lost), `'interval'` every `fsyncIntervalMs` (default), `'never'` (left to the OS).
   */
  fsync?: 'always' | 'interval' | 'never';
  /** How often `fsync: 'interval'` syncs, in ms. Default 1000. */
  fsyncIntervalMs?: number;
  /**
   * Start a new file once this one holds `maxBytes`: the full one is renamed `<path>.<first seq, 12 digits>`. The
   * log (its sequence and hash tree) continues across files; keep them all to verify it.
   */
  rotate?: { maxBytes: number };
  /** Most lines held while the disk refuses writes (default 100 000); past it, records are counted as dropped. */
  maxQueued?: number;
}

const optionsSchema = z
  .object({
    fsync: z.enum(['always', 'interval', 'never']).default('interval'),
    fsyncIntervalMs: durationMsSchema.default(1000),
    rotate: z
      .object({ maxBytes: z.number().int().min(1024) })
      .strict()
      .optional(),
    maxQueued: z.number().int().positive().default(100_000),
  })
  .strict();

// Lines are gathered and written in one system call per event-loop turn, or at once past this size.
const BATCH_BYTES = 64 * 1024;
const RETRY_MS = 1000;

/** The rotated files of a log at `path`, oldest first. */
export function fileSegments(path: string): string[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && /^\d{12}$/.test(name.slice(prefix.length)))
    .sort()
    .map((name) => join(dir, name));
}

/** Every line of a file log (rotated files, then the current one), as stored. */
export async function* fileLogLines(path: string) {
  for (const file of [...fileSegments(path), ...(existsSync(path) ? [path] : [])]) yield* readLines(file);
}

class FileSink implements AuditSink {
  readonly name: string;
  readonly exact = true;
  readonly #path: string;
  readonly #options: z.output<typeof optionsSchema>;
  #fd = -1;
  #host: SinkHost | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #size = 0;
  #lines = 0;
  /** Sequence number of the current file's first line. */
  #currentStart = 0;
  #dirty = false;
  #scheduled = false;
  #retry: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, options: z.output<typeof optionsSchema>) {
    this.#path = path;
    this.#options = options;
    this.name = `file:${path}`;
  }

  get full(): boolean {
    return this.#pending.length >= this.#options.maxQueued;
  }

  get queued(): number {
    return this.#pending.length;
  }

  open(host: SinkHost): Iterable<string> {
    this.#host = host;
    const lines: string[] = [];
    for (const segment of fileSegments(this.#path)) {
      for (const line of readLinesSync(segment)) lines.push(line.bytes.toString('utf8'));
    }
    this.#currentStart = lines.length;
    let keep = 0;
    let discarded: Buffer | undefined;
    if (existsSync(this.#path)) {
      for (const line of readLinesSync(this.#path)) {
        if (line.complete) {
          lines.push(line.bytes.toString('utf8'));
          keep += line.bytes.length + 1;
        } else {
          discarded = line.bytes;
        }
      }
    }
    this.#fd = openSync(this.#path, 'a');
    if (discarded !== undefined) {
      // A crash cut the last line mid-write: it was never acknowledged, so it is cut off (and reported), never
      // completed or accepted.
      ftruncateSync(this.#fd, keep);
      host.recovered({
        discardedBytes: discarded.length,
        sha256: createHash('sha256').update(discarded).digest('hex'),
      });
    }
    this.#size = keep;
    this.#lines = lines.length;
    if (this.#options.fsync === 'interval') {
      this.#syncTimer = setInterval(() => this.#syncIfDirty(), this.#options.fsyncIntervalMs).unref();
    }
    return lines;
  }

  write(line: string): void {
    this.#pending.push(line);
    this.#pendingBytes += line.length + 1;
    if (this.#options.fsync === 'always' || this.#pendingBytes >= BATCH_BYTES) this.flushSync();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#writePending();
      });
    }
  }

  /** Writes what is pending; true when nothing is left. Failures keep the lines for a retry. */
  #writePending(): boolean {
    if (this.#pending.length === 0) return true;
    if (this.#fd < 0) return false;
    try {
      const rotate = this.#options.rotate;
      if (rotate !== undefined && this.#size > 0 && this.#size + this.#pendingBytes > rotate.maxBytes) this.#rotate();
      const bytes = Buffer.from(`${this.#pending.join('\n')}\n`);
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset);
      this.#size += bytes.length;
      this.#lines += this.#pending.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#dirty = true;
      if (this.#options.fsync === 'always') this.#sync();
      return true;
    } catch (error) {
      // A partial write leaves a cut line; the next successful write would glue onto it. Cut it back.
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        // The disk is gone: the retry will say so again.
      }
      this.#host?.error(error);
      if (this.#retry === undefined && !this.#closed) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#writePending();
        }, RETRY_MS).unref();
      }
      return false;
    }
  }

  #rotate(): void {
    this.#sync();
    closeSync(this.#fd);
    this.#fd = -1;
    renameSync(this.#path, `${this.#path}.${String(this.#currentStart).padStart(12, '0')}`);
    this.#fd = openSync(this.#path, 'a');
    this.#size = 0;
    this.#currentStart = this.#lines;
  }

  #sync(): void {
    if (this.#fd >= 0 && this.#dirty) {
      fdatasyncSync(this.#fd);
      this.#dirty = false;
    }
  }

  #syncIfDirty(): void {
    try {
      this.#sync();
    } catch (error) {
      this.#host?.error(error);
    }
  }

  /** Writes what is pending to the OS (synced too with `fsync: 'always'`, as every write is). */
  flushSync(): void {
    this.#writePending();
  }

  flush(): Promise<void> {
    if (this.#writePending()) this.#syncIfDirty();
    return this.#pending.length === 0
      ? Promise.resolve()
      : Promise.reject(new Error(`${this.name}: ${this.#pending.length} line(s) could not be written`));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    try {
      if (this.#writePending()) this.#syncIfDirty();
    } finally {
      this.#closed = true;
      clearInterval(this.#syncTimer);
      clearTimeout(this.#retry);
      if (this.#fd >= 0) closeSync(this.#fd);
      this.#fd = -1;
    }
    return Promise.resolve();
  }

  async *lines(): AsyncIterable<string> {
    this.flushSync();
    for await (const line of fileLogLines(this.#path)) if (line.complete) yield line.bytes.toString('utf8');
  }
}

/**
 * A sink that appends JSON lines to a file from the main thread (no worker, so nothing is lost to
 * `process.exit`): lines gathered in one event-loop turn go out in one write, synced to disk as `fsync` says.
 * On start it reads the file back to continue the sequence and hash tree, and cuts a line a crash left half-written.
 *
 * @example
 * ```ts
 * const audit = createAuditLog({ app: 'orders', sink: fileSink('/var/log/orders/audit.jsonl', { fsync: 'interval' }) });
 * ```
 */
export function fileSink(path: string, options: FileSinkOptions = {}): AuditSink {
  parseOptions(z.string().min(1, 'must be a file path'), path, 'fileSink()', ['path']);
  return new FileSink(path, parseOptions(optionsSchema, options, 'fileSink()'));
}
