import { createHash, hash } from 'node:crypto';

// RFC 6962 §2.1 / RFC 9162 §2.1.1: a leaf hash is SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖ right).
// The prefixes keep a leaf from ever being mistaken for a node (second-preimage resistance).
const LEAF_PREFIX = Buffer.from([0]);
const NODE_INPUT = Buffer.alloc(65, 1); // 0x01 ‖ left ‖ right

/** SHA-256 of nothing: the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/**
 * The RFC 6962 leaf hash of one entry: `SHA-256(0x00 ‖ entry)`. An audit record's entry is its line's exact UTF-8
 * bytes, without the newline.
 *
 * @example
 * ```ts
 * leafHash('{"seq":0}').toString('hex');
 * ```
 */
export function leafHash(entry: string | Uint8Array): Buffer {
  // A string takes the 0x00 prefix as U+0000, which UTF-8 encodes as that one byte.
  return sha256(typeof entry === 'string' ? `\u0000${entry}` : Buffer.concat([LEAF_PREFIX, entry]));
}

/**
 * SHA-256 as a Buffer. On Node 20, `crypto.hash` (one call, no Hash object) with a latin1 ('binary') string result, turned into
 * a Buffer in JavaScript, costs about 0.5 µs for a record; asking it for a Buffer directly costs about 1.1 µs and
 * `createHash().update().digest()` about 1.5 µs (bench/audit-throughput.ts: the leaf hash is the log's largest cost).
 */
function sha256(data: string | Buffer): Buffer {
  return Buffer.from(hash('sha256', data, 'binary'), 'latin1');
}

/**
 * The RFC 6962 hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
 *
 * @example
 * ```ts
 * const root = nodeHash(leafHash('a'), leafHash('b')); // the root of a two-leaf tree
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  // One scratch buffer for every node: hashing is synchronous, so nothing else can use it meanwhile.
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return sha256(NODE_INPUT);
}

/**
 * The state a log writer keeps: the roots of the perfect subtrees that make up the tree so far (a "compact range",
 * one hash per set bit of the size, O(log n) memory). Appending costs one leaf hash plus one node hash per carry.
 *
 * @example
 * ```ts
 * const tree = new MerkleAccumulator();
 * tree.append(leafHash('first line'));
 * tree.root().toString('base64');
 * ```
 */
export class MerkleAccumulator {
  /** Roots of the perfect subtrees, largest (leftmost) first. */
  readonly #stack: Buffer[] = [];
  #size = 0;

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash. */
  append(leaf: Buffer): void {
    let hash = leaf;
    // Each trailing 1 bit of the old size is a perfect subtree of the new leaf's height: merge them.
    for (let size = this.#size; (size & 1) === 1; size = Math.floor(size / 2)) {
      hash = nodeHash(this.#stack.pop()!, hash);
    }
    this.#stack.push(hash);
    this.#size++;
  }

  /** The tree head (Merkle tree hash) over every leaf appended so far. */
  root(): Buffer {
    if (this.#stack.length === 0) return EMPTY_ROOT;
    // RFC 6962 splits at the largest power of two below n, so the perfect subtrees fold from the right.
    let hash = this.#stack[this.#stack.length - 1]!;
    for (let i = this.#stack.length - 2; i >= 0; i--) hash = nodeHash(this.#stack[i]!, hash);
    return hash;
  }
}

/**
 * The Merkle tree hash (RFC 6962 §2.1) of a list of leaf hashes.
 *
 * @example
 * ```ts
 * treeRoot(lines.map((line) => leafHash(line)));
 * ```
 */
export function treeRoot(leaves: readonly Buffer[], start = 0, end = leaves.length): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[start]!;
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(treeRoot(leaves, start, start + k), treeRoot(leaves, start + k, end));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The audit path (RFC 6962 §2.1.1) proving that leaf `index` is in the tree of the first `size` leaves.
 *
 * @example
 * ```ts
 * const proof = inclusionProof(leaves, 3, 8);
 * verifyInclusion(leaves[3]!, 3, 8, proof, treeRoot(leaves)); // true
 * ```
 */
export function inclusionProof(leaves: readonly Buffer[], index: number, size = leaves.length): Buffer[] {
  if (!(index >= 0 && index < size && size <= leaves.length)) {
    throw new RangeError(`index ${index} is not in a tree of size ${size}`);
  }
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = largestPowerOfTwoBelow(n);
    return m < k
      ? [...path(m, start, start + k), treeRoot(leaves, start + k, end)]
      : [...path(m - k, start + k, end), treeRoot(leaves, start, start + k)];
  };
  return path(index, 0, size);
}

/**
 * The consistency proof (RFC 6962 §2.1.2) that the tree of the first `size1` leaves is a prefix of the tree of the
 * first `size2`: what shows two checkpoints describe one append-only log.
 *
 * @example
 * ```ts
 * const proof = consistencyProof(leaves, 3, 8);
 * verifyConsistency(3, 8, proof, treeRoot(leaves, 0, 3), treeRoot(leaves, 0, 8)); // true
 * ```
 */
export function consistencyProof(leaves: readonly Buffer[], size1: number, size2 = leaves.length): Buffer[] {
  if (!(size1 > 0 && size1 <= size2 && size2 <= leaves.length)) {
    throw new RangeError(`no consistency proof from size ${size1} to ${size2}`);
  }
  const subproof = (m: number, start: number, end: number, whole: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return whole ? [] : [treeRoot(leaves, start, end)];
    const k = largestPowerOfTwoBelow(n);
    return m <= k
      ? [...subproof(m, start, start + k, whole), treeRoot(leaves, start + k, end)]
      : [...subproof(m - k, start + k, end, false), treeRoot(leaves, start, start + k)];
  };
  return subproof(size1, 0, size2, true);
}

// ---- Verification (ported from transparency-dev/merkle proof/verify.go, which its test vectors check) ----

const bitLength = (x: number): number => (x === 0 ? 0 : Math.floor(Math.log2(x)) + 1);
const onesCount = (x: number): number => {
  let count = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) count += v % 2;
  return count;
};
const trailingZeros = (x: number): number => {
  let count = 0;
  for (let v = x; v > 0 && v % 2 === 0; v /= 2) count++;
  return count;
};
// Bit operations on sizes above 2^31 would overflow JavaScript's 32-bit operators: go through BigInt there.
const xor = (a: number, b: number): number =>
  a <= 0x7fffffff && b <= 0x7fffffff ? a ^ b : Number(BigInt(a) ^ BigInt(b));
const bit = (x: number, i: number): number => Math.floor(x / 2 ** i) % 2;

function chainInner(seed: Buffer, proof: readonly Buffer[], index: number): Buffer {
  let hash = seed;
  proof.forEach((p, i) => (hash = bit(index, i) === 0 ? nodeHash(hash, p) : nodeHash(p, hash)));
  return hash;
}

function chainInnerRight(seed: Buffer, proof: readonly Buffer[], index: number): Buffer {
  let hash = seed;
  proof.forEach((p, i) => {
    if (bit(index, i) === 1) hash = nodeHash(p, hash);
  });
  return hash;
}

function chainBorderRight(seed: Buffer, proof: readonly Buffer[]): Buffer {
  let hash = seed;
  for (const p of proof) hash = nodeHash(p, hash);
  return hash;
}

function decompInclusion(index: number, size: number): [inner: number, border: number] {
  const inner = bitLength(xor(index, size - 1));
  return [inner, onesCount(Math.floor(index / 2 ** inner))];
}

const isHash = (h: Uint8Array): boolean => h.length === 32;

/**
 * The root an inclusion proof implies, or `undefined` when the proof has the wrong shape for `index` and `size`.
 *
 * @example
 * ```ts
 * rootFromInclusionProof(leafHash(line), 3, 8, proof)?.equals(root);
 * ```
 */
export function rootFromInclusionProof(
  leaf: Buffer,
  index: number,
  size: number,
  proof: readonly Buffer[],
): Buffer | undefined {
  if (!(index >= 0 && index < size) || !isHash(leaf) || !proof.every(isHash)) return undefined;
  const [inner, border] = decompInclusion(index, size);
  if (proof.length !== inner + border) return undefined;
  return chainBorderRight(chainInner(leaf, proof.slice(0, inner), index), proof.slice(inner));
}

/**
 * True when `proof` shows leaf `index` with hash `leaf` is in the tree of `size` leaves whose root is `root`.
 *
 * @example
 * ```ts
 * verifyInclusion(leafHash(line), seq, checkpoint.size, proof, checkpoint.root);
 * ```
 */
export function verifyInclusion(
  leaf: Buffer,
  index: number,
  size: number,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  return rootFromInclusionProof(leaf, index, size, proof)?.equals(root) === true;
}

/**
 * True when `proof` shows the tree of `size1` leaves (root `root1`) is a prefix of the tree of `size2` leaves
 * (root `root2`).
 *
 * @example
 * ```ts
 * verifyConsistency(older.size, newer.size, proof, older.root, newer.root);
 * ```
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Buffer[],
  root1: Buffer,
  root2: Buffer,
): boolean {
  if (!(size1 >= 0 && size2 >= size1) || !proof.every(isHash)) return false;
  if (size1 === 0) return false; // a proof from the empty tree is meaningless
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (proof.length === 0 || !isHash(root1)) return false;
  const end = size1;
  const [forkLevel, border] = decompInclusion(end - 1, size2);
  const shift = trailingZeros(end);
  const inner = forkLevel - shift;
  const powerOfTwo = end === 2 ** shift;
  const seed = powerOfTwo ? root1 : proof[0]!;
  const rest = powerOfTwo ? proof : proof.slice(1);
  if (rest.length !== inner + border) return false;
  const mask = Math.floor((end - 1) / 2 ** shift);
  if (!powerOfTwo) {
    // The first subtree's root must come out of the proof too, so the proof cannot lie about the old tree.
    const height = bitLength(end - 1);
    const subInner = Math.min(height, forkLevel) - shift;
    const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, subInner), mask), rest.slice(inner));
    if (!hash1.equals(root1)) return false;
  }
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  return hash2.equals(root2);
}
