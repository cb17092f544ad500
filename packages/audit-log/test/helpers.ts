import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { checkpointSigner } from '../src/checkpoint.js';

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-audit-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh Ed25519 signer and its verifier key. */
export function testSigner(name = 'test-audit') {
  const { privateKey } = generateKeyPairSync('ed25519');
  return checkpointSigner({ privateKey, name });
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
