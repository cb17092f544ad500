import { appendFileSync, closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { readLines } from './line-reader.js';

/**
 * Where signed checkpoints go: somewhere other than the records, so whoever can rewrite the log cannot also
 * rewrite what it committed to (another disk, a WORM bucket, a witness service).
 */
export interface CheckpointStore {
  /** Stores one signed checkpoint note. Called rarely (every N records or T seconds); may be synchronous. */
  append(note: string): void | Promise<void>;
  /** Every note stored, oldest first. */
  notes(): AsyncIterable<string> | Iterable<string>;
}

/**
 * Checkpoints appended to a file, one JSON string per line, each synced before `append` returns.
 *
 * @example
 * ```ts
 * createAuditLog({ app: 'orders', sink: fileSink('audit.jsonl'), signer, checkpoints: checkpointFile('/mnt/worm/audit.checkpoints') });
 * ```
 */
export function checkpointFile(path: string): CheckpointStore {
  return {
    append(note) {
      appendFileSync(path, `${JSON.stringify(note)}\n`);
      const fd = openSync(path, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    async *notes() {
      if (!existsSync(path)) return;
      for await (const line of readLines(path)) {
        if (line.complete && line.bytes.length > 0) yield JSON.parse(line.bytes.toString('utf8')) as string;
      }
    },
  };
}

/** Checkpoints kept in memory, for tests. `notes` is the list itself. */
export function memoryCheckpoints(): CheckpointStore & { readonly stored: string[] } {
  const stored: string[] = [];
  return {
    stored,
    append: (note) => void stored.push(note),
    notes: () => [...stored],
  };
}
