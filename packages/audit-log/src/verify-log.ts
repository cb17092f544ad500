import { checkpointVerifier, verifyCheckpoint, type CheckpointVerifier, type SignedCheckpoint } from './checkpoint.js';
import type { StoredLine } from './line-reader.js';
import { leafHash, MerkleAccumulator } from './merkle.js';

/** One thing wrong with a log, located as precisely as the evidence allows. */
export interface VerifyProblem {
  /**
   * `parse`: a line is not a JSON record. `seq`: a record's `seq` is not its position (a record removed, inserted,
   * duplicated or moved). `root`: the records do not hash to a signed checkpoint (one was edited). `truncated`: a
   * checkpoint covers more records than the log holds. `signature`: a checkpoint note is malformed or not signed by
   * the key. `fork`: two signed checkpoints of one size disagree. `origin`: a checkpoint names another log.
   */
  readonly kind: 'parse' | 'seq' | 'root' | 'truncated' | 'signature' | 'fork' | 'origin';
  /** The first record position the problem concerns, when known. */
  readonly seq?: number;
  readonly message: string;
}

/** What {@link verifyLog} found. */
export interface VerifyResult {
  /** No problem found, and at least... nothing more: records after the last checkpoint are not yet covered by one. */
  readonly ok: boolean;
  /** Complete records read. */
  readonly records: number;
  /** Checkpoints whose signature verified and whose root was checked. */
  readonly checkpoints: number;
  /** The largest checkpoint that verified. */
  readonly latest?: SignedCheckpoint;
  /** Records after the latest checkpoint: intact as far as their `seq` shows, but not yet signed for. */
  readonly uncovered: number;
  /** A last line without its newline (a write a crash cut): not counted, not accepted. */
  readonly partialTail: boolean;
  /** Problems in log order; the first names the first bad record. */
  readonly problems: readonly VerifyProblem[];
}

/** Input of {@link verifyLog}. */
export interface VerifyInput {
  /** The log's lines, oldest first: strings, or {@link StoredLine}s with their exact bytes. */
  lines: AsyncIterable<string | StoredLine> | Iterable<string | StoredLine>;
  /** Signed checkpoint notes, in any order. */
  checkpoints: AsyncIterable<string> | Iterable<string>;
  /** The key checkpoints must be signed by: a verifier key (`name+id+key`), or a {@link CheckpointVerifier}. */
  publicKey: string | CheckpointVerifier;
  /** The log's origin; checkpoints naming another are problems. Default: whatever the first checkpoint names. */
  origin?: string;
}

/**
 * Checks a log against its signed checkpoints: recomputes the RFC 6962 root at every checkpoint's size from the
 * exact stored bytes, checks every `seq`, and reports gaps, edits, reordering and truncation, first bad record
 * first. Streams the log: memory stays O(log n).
 *
 * @example
 * ```ts
 * const result = await verifyLog({
 *   lines: fileLogLines('audit.jsonl'),
 *   checkpoints: checkpointFile('audit.checkpoints').notes(),
 *   publicKey: readFileSync('audit.pub', 'utf8'),
 * });
 * if (!result.ok) console.error(result.problems[0]);
 * ```
 */
export async function verifyLog(input: VerifyInput): Promise<VerifyResult> {
  const verifier = typeof input.publicKey === 'string' ? checkpointVerifier(input.publicKey) : input.publicKey;
  const problems: VerifyProblem[] = [];
  const bySize = new Map<number, SignedCheckpoint>();
  let origin = input.origin;
  for await (const note of input.checkpoints) {
    const cp = verifyCheckpoint(note, verifier);
    if (cp === undefined) {
      problems.push({ kind: 'signature', message: `a checkpoint is malformed or not signed by ${verifier.name}` });
      continue;
    }
    origin ??= cp.origin;
    if (cp.origin !== origin) {
      problems.push({ kind: 'origin', message: `a checkpoint names log ${cp.origin}, not ${origin}` });
      continue;
    }
    const same = bySize.get(cp.size);
    if (same !== undefined && !same.root.equals(cp.root)) {
      problems.push({ kind: 'fork', seq: cp.size, message: `two signed checkpoints of size ${cp.size} disagree` });
    } else bySize.set(cp.size, cp);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const tree = new MerkleAccumulator();
  let next = 0; // index into sizes
  let verified = 0;
  let latest: SignedCheckpoint | undefined;
  let partialTail = false;
  let lastGood = 0;
  const checkAt = (size: number): void => {
    while (next < sizes.length && sizes[next] === size) {
      const cp = bySize.get(size)!;
      next++;
      if (tree.root().equals(cp.root)) {
        verified++;
        latest = cp;
        lastGood = size;
      } else {
        problems.push({
          kind: 'root',
          seq: lastGood,
          message: `records ${lastGood}..${size - 1} do not match the checkpoint signed at ${stamp(cp)} for size ${size}: one of them was changed`,
        });
      }
    }
  };
  checkAt(0);
  for await (const item of input.lines) {
    const line = typeof item === 'string' ? { bytes: Buffer.from(item), complete: true } : item;
    if (!line.complete) {
      partialTail = true;
      continue;
    }
    if (partialTail) {
      // Only the very last line may lack its newline; one in the middle was cut by hand.
      problems.push({ kind: 'parse', seq: tree.size, message: `a cut line precedes record ${tree.size}` });
      partialTail = false;
    }
    const index = tree.size;
    const seq = seqOf(line.bytes);
    if (seq === undefined) {
      problems.push({ kind: 'parse', seq: index, message: `line ${index + 1} is not an audit record` });
    } else if (seq !== index) {
      problems.push({
        kind: 'seq',
        seq: index,
        message: `record at position ${index} says seq ${seq}: ${
          seq > index ? `records ${index}..${seq - 1} are missing` : 'a record was inserted, duplicated or moved'
        }`,
      });
    }
    tree.append(leafHash(line.bytes));
    checkAt(tree.size);
  }
  if (next < sizes.length) {
    const cp = bySize.get(sizes[sizes.length - 1]!)!;
    problems.push({
      kind: 'truncated',
      seq: tree.size,
      message: `the log holds ${tree.size} records but the checkpoint signed at ${stamp(cp)} covers ${cp.size}: records ${tree.size}..${cp.size - 1} were removed`,
    });
  }
  problems.sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
  return {
    ok: problems.length === 0,
    records: tree.size,
    checkpoints: verified,
    ...(latest === undefined ? {} : { latest }),
    uncovered: tree.size - (latest?.size ?? 0),
    partialTail,
    problems,
  };
}

const stamp = (cp: SignedCheckpoint): string => (cp.time === undefined ? '(no time)' : new Date(cp.time).toISOString());

function seqOf(bytes: Buffer): number | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { seq?: unknown };
    return typeof value === 'object' && value !== null && Number.isSafeInteger(value.seq)
      ? (value.seq as number)
      : undefined;
  } catch {
    return undefined;
  }
}
