import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle.js';

interface InclusionVector {
  file: string;
  leafIdx: number;
  treeSize: number;
  root: string | null;
  leafHash: string | null;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyVector {
  file: string;
  size1: number;
  size2: number;
  root1: string | null;
  root2: string | null;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/transparency-dev-merkle.json', import.meta.url), 'utf8'),
) as {
  inclusion: InclusionVector[];
  consistency: ConsistencyVector[];
};
const b64 = (s: string | null): Buffer => Buffer.from(s ?? '', 'base64');
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// transparency-dev/merkle testonly/constants.go: eight leaf inputs and the roots of their prefixes.
const leafInputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const roots = [
  EMPTY_ROOT.toString('hex'),
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const leaves = leafInputs.map((input) => leafHash(hex(input)));

describe('RFC 6962 tree (transparency-dev/merkle vectors)', () => {
  it('reproduces the root of every prefix of the eight reference leaves, by recursion and by accumulator', () => {
    const acc = new MerkleAccumulator();
    expect(acc.root().toString('hex')).toBe(roots[0]);
    for (let size = 1; size <= 8; size++) {
      acc.append(leaves[size - 1]!);
      expect(treeRoot(leaves.slice(0, size)).toString('hex')).toBe(roots[size]);
      expect(acc.root().toString('hex')).toBe(roots[size]);
      expect(acc.size).toBe(size);
    }
  });

  it.each(vectors.inclusion.map((v) => [v.file, v] as const))('inclusion %s', (_file, v) => {
    const ok = verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root));
    expect(ok).toBe(!v.wantErr);
  });

  it.each(vectors.consistency.map((v) => [v.file, v] as const))('consistency %s', (_file, v) => {
    const ok = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    expect(ok).toBe(!v.wantErr);
  });

  it('generates the happy-path proofs the vectors hold', () => {
    for (const v of vectors.inclusion.filter((x) => x.desc === 'happy path' && x.treeSize <= 8)) {
      expect(inclusionProof(leaves, v.leafIdx, v.treeSize).map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
    }
    for (const v of vectors.consistency.filter((x) => x.desc === 'happy path' && x.size2 <= 8)) {
      expect(consistencyProof(leaves, v.size1, v.size2).map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
    }
  });
});

describe('proofs against the recursive definition (property)', () => {
  const trees = fc
    .array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 })
    .map((entries) => entries.map((e) => leafHash(e)));

  it('the accumulator root equals the recursive tree hash at every size', () => {
    fc.assert(
      fc.property(trees, (ls) => {
        const acc = new MerkleAccumulator();
        ls.forEach((leaf, i) => {
          acc.append(leaf);
          expect(acc.root().equals(treeRoot(ls, 0, i + 1))).toBe(true);
        });
      }),
    );
  });

  it('every generated inclusion proof verifies, and fails for another leaf or index', () => {
    fc.assert(
      fc.property(trees, fc.nat(), fc.nat(), (ls, a, b) => {
        const size = 1 + (a % ls.length);
        const index = b % size;
        const proof = inclusionProof(ls, index, size);
        const root = treeRoot(ls, 0, size);
        expect(rootFromInclusionProof(ls[index]!, index, size, proof)?.equals(root)).toBe(true);
        if (size > 1) {
          const other = (index + 1) % size;
          if (!ls[other]!.equals(ls[index]!)) expect(verifyInclusion(ls[other]!, index, size, proof, root)).toBe(false);
        }
      }),
    );
  });

  it('every generated consistency proof verifies, and fails against a changed old tree', () => {
    fc.assert(
      fc.property(trees, fc.nat(), fc.nat(), (ls, a, b) => {
        const size2 = 1 + (a % ls.length);
        const size1 = 1 + (b % size2);
        const proof = consistencyProof(ls, size1, size2);
        const root1 = treeRoot(ls, 0, size1);
        const root2 = treeRoot(ls, 0, size2);
        expect(verifyConsistency(size1, size2, proof, root1, root2)).toBe(true);
        expect(verifyConsistency(size1, size2, proof, leafHash('forged'), root2)).toBe(false);
      }),
    );
  });
});
