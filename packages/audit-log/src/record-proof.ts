import type { SignedCheckpoint } from './checkpoint.js';
import type { StoredLine } from './line-reader.js';
import { inclusionProof, leafHash, treeRoot, verifyInclusion } from './merkle.js';

/** Evidence that one record is in the log a checkpoint signed: RFC 6962 audit path, O(log n) hashes. */
export interface RecordProof {
  readonly seq: number;
  /** The tree size the proof is for (a checkpoint's size). */
  readonly size: number;
  /** The record's line, exactly as stored. */
  readonly line: string;
  /** Base64 hashes, leaf to root. */
  readonly proof: readonly string[];
  /** Base64 root the proof leads to (compare with the checkpoint's). */
  readonly root: string;
}

/**
 * Builds the inclusion proof of record `seq` in the first `size` records (the size of a signed checkpoint), so a
 * third party holding only the checkpoint can check that one record without the rest of the log.
 *
 * @example
 * ```ts
 * const proof = await proveRecord(fileLogLines('audit.jsonl'), 42, checkpoint.size);
 * verifyRecordProof(proof, checkpoint); // true
 * ```
 */
export async function proveRecord(
  lines: AsyncIterable<string | StoredLine> | Iterable<string | StoredLine>,
  seq: number,
  size: number,
): Promise<RecordProof> {
  const leaves: Buffer[] = [];
  let line: string | undefined;
  for await (const item of lines) {
    if (leaves.length === size) break;
    const bytes = typeof item === 'string' ? Buffer.from(item) : item.complete ? item.bytes : undefined;
    if (bytes === undefined) break;
    if (leaves.length === seq) line = bytes.toString('utf8');
    leaves.push(leafHash(bytes));
  }
  if (line === undefined || leaves.length < size) {
    throw new RangeError(`the log holds ${leaves.length} records: no record ${seq} in a tree of ${size}`);
  }
  return {
    seq,
    size,
    line,
    proof: inclusionProof(leaves, seq, size).map((h) => h.toString('base64')),
    root: treeRoot(leaves).toString('base64'),
  };
}

/**
 * True when `proof` shows its record is in the log `checkpoint` signed (check the checkpoint's signature first,
 * with `verifyCheckpoint`).
 *
 * @example
 * ```ts
 * const cp = verifyCheckpoint(note, checkpointVerifier(pubkey));
 * if (cp && verifyRecordProof(proof, cp)) console.log('record', proof.seq, 'is in the log');
 * ```
 */
export function verifyRecordProof(proof: RecordProof, checkpoint: Pick<SignedCheckpoint, 'size' | 'root'>): boolean {
  return (
    proof.size === checkpoint.size &&
    verifyInclusion(
      leafHash(proof.line),
      proof.seq,
      proof.size,
      proof.proof.map((h) => Buffer.from(h, 'base64')),
      checkpoint.root,
    )
  );
}
