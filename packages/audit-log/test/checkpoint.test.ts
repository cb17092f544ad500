import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkpointSigner, checkpointVerifier, verifyCheckpoint, verifyNote } from '../src/checkpoint.js';
import { leafHash } from '../src/merkle.js';

// golang.org/x/mod sumdb/note (note_test.go, example_test.go) and the C2SP signed-note spec: the wire format's
// reference vectors.
const peterSigner = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const peterKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peterText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterNote = `${peterText}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
const specKey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const specNote =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

/** The Go signer key's 32-byte seed as a node:crypto private key. */
function goPrivateKey(skey: string) {
  const seed = Buffer.from(skey.split('+').slice(4).join('+'), 'base64').subarray(1); // after the 0x01 type byte
  return createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

describe('signed notes (C2SP signed-note vectors)', () => {
  it('verifies the Go and spec example notes', () => {
    expect(verifyNote(peterNote, checkpointVerifier(peterKey))).toEqual({ text: peterText, signers: ['PeterNeumann'] });
    expect(verifyNote(specNote, checkpointVerifier(specKey))?.text).toBe('This is an example message.\n');
  });

  it('signs the Go vector byte for byte and derives its verifier key', () => {
    const signer = checkpointSigner({ privateKey: goPrivateKey(peterSigner), name: 'PeterNeumann' });
    expect(signer.verifierKey).toBe(peterKey);
    expect(signer.signNote(peterText)).toBe(peterNote);
  });

  it('refuses a changed text, a changed signature, another key and malformed notes', () => {
    const verifier = checkpointVerifier(peterKey);
    expect(verifyNote(peterNote.replace('cryptography', 'cryptographs'), verifier)).toBeUndefined();
    expect(verifyNote(peterNote.replace('x08go', 'x08gp'), verifier)).toBeUndefined();
    expect(verifyNote(peterNote, checkpointVerifier(specKey))).toBeUndefined();
    expect(verifyNote(peterText, verifier)).toBeUndefined();
    expect(verifyNote(peterNote.replace('\u2014', '-'), verifier)).toBeUndefined();
  });

  it('rejects malformed verifier keys and keys whose id does not match', () => {
    expect(() => checkpointVerifier('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).toThrow(
      /id/,
    );
    expect(() => checkpointVerifier('not a key')).toThrow(/verifier key/);
    expect(() =>
      checkpointSigner({ privateKey: generateKeyPairSync('ed25519').privateKey, name: 'has space' }),
    ).toThrow(/key name/);
    expect(() => checkpointSigner({ privateKey: generateKeyPairSync('x25519').privateKey, name: 'x' })).toThrow(
      /Ed25519/,
    );
  });
});

describe('checkpoints', () => {
  it('round-trips origin, size, root and time, and accepts a PEM public key with its name', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = checkpointSigner({
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      name: 'orders',
    });
    const root = leafHash('x');
    const note = signer.sign({ origin: 'example.com/orders', size: 7, root, time: Date.UTC(2026, 11, 4) });
    expect(note.split('\n').slice(0, 4)).toEqual([
      'example.com/orders',
      '7',
      root.toString('base64'),
      'time 2026-12-04T00:00:00.000Z',
    ]);
    for (const verifier of [checkpointVerifier(signer.verifierKey), checkpointVerifier(publicKey, 'orders')]) {
      const cp = verifyCheckpoint(note, verifier);
      expect(cp).toMatchObject({
        origin: 'example.com/orders',
        size: 7,
        time: Date.UTC(2026, 11, 4),
        signers: ['orders'],
      });
      expect(cp?.root.equals(root)).toBe(true);
    }
    expect(verifyCheckpoint(note.replace('\n7\n', '\n8\n'), checkpointVerifier(signer.verifierKey))).toBeUndefined();
  });

  it('does not take a signed note that is not a checkpoint', () => {
    expect(verifyCheckpoint(peterNote, checkpointVerifier(peterKey))).toBeUndefined();
  });
});
