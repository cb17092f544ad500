import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** One line of a file as stored: its exact bytes, and whether a newline ended it (a crash can cut the last one). */
export interface StoredLine {
  readonly bytes: Buffer;
  readonly complete: boolean;
}

/** Splits chunks into lines, keeping the unfinished tail for the next chunk. */
class LineSplitter {
  #rest: Buffer | undefined;

  *push(chunk: Buffer): Generator<StoredLine> {
    let data = this.#rest === undefined ? chunk : Buffer.concat([this.#rest, chunk]);
    let start = 0;
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
      yield { bytes: data.subarray(start, nl), complete: true };
      start = nl + 1;
    }
    data = data.subarray(start);
    this.#rest = data.length === 0 ? undefined : Buffer.from(data);
  }

  *end(): Generator<StoredLine> {
    if (this.#rest !== undefined) yield { bytes: this.#rest, complete: false };
    this.#rest = undefined;
  }
}

/** Reads a file's lines synchronously, a chunk at a time (a restarting log replays its file this way). */
export function* readLinesSync(path: string): Generator<StoredLine> {
  const fd = openSync(path, 'r');
  try {
    const splitter = new LineSplitter();
    // A fresh buffer per chunk: the lines handed out are views into it and may outlive the next read.
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      yield* splitter.push(buffer.subarray(0, n));
    }
    yield* splitter.end();
  } finally {
    closeSync(fd);
  }
}

/** Reads a file's lines as a stream: memory stays at one chunk however large the file. */
export async function* readLines(path: string): AsyncGenerator<StoredLine> {
  const handle = await open(path, 'r');
  try {
    const splitter = new LineSplitter();
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      yield* splitter.push(buffer.subarray(0, bytesRead));
    }
    yield* splitter.end();
  } finally {
    await handle.close();
  }
}
