import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** A checkpoint (C2SP tlog-checkpoint): what a log committed to, at one size. */
export interface Checkpoint {
  /** Names the log, e.g. `example.com/orders/audit`. */
  readonly origin: string;
  /** Number of records the tree covers. */
  readonly size: number;
  /** The RFC 6962 root over those records. */
  readonly root: Buffer;
  /** When it was signed, in ms since the epoch (extension line `time`), if present. */
  readonly time?: number;
}

/** A parsed signed checkpoint: the checkpoint, its exact note text, and who signed it. */
export interface SignedCheckpoint extends Checkpoint {
  /** The note text exactly as written (body, blank line, signature lines). */
  readonly note: string;
  /** Names on the note's signature lines. */
  readonly signers: readonly string[];
}

/** Signs checkpoints with an Ed25519 key (node:crypto). Create one with {@link checkpointSigner}. */
export interface CheckpointSigner {
  /** The key name written on signature lines. */
  readonly name: string;
  /** The public key in C2SP note verifier form: `<name>+<hex key id>+<base64(0x01 ‖ key)>`. */
  readonly verifierKey: string;
  /** Signs a checkpoint; returns the note text. */
  sign(checkpoint: Checkpoint): string;
  /** Signs any note text (lines ending in a newline, C2SP signed-note); returns the note. */
  signNote(text: string): string;
}

const ED25519 = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';

function rawPublicKey(key: KeyObject): Buffer {
  // An Ed25519 SPKI DER is a fixed 12-byte header followed by the 32-byte key.
  return key.export({ format: 'der', type: 'spki' }).subarray(12);
}

function keyId(name: string, raw: Buffer): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([ED25519]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

/** Key names may not hold spaces or `+` (signed-note rule): they would make signature lines ambiguous. */
function checkName(name: string): void {
  if (name.length === 0 || /[\s+]/.test(name)) throw new TypeError(`invalid key name ${JSON.stringify(name)}`);
}

/** The body of a checkpoint note: origin, size and base64 root, one per line, then extension lines. */
export function checkpointBody(checkpoint: Checkpoint): string {
  const time = checkpoint.time === undefined ? '' : `time ${new Date(checkpoint.time).toISOString()}\n`;
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n${time}`;
}

/**
 * A checkpoint signer over an Ed25519 private key (a `KeyObject` or PEM text). Keep the key away from the log's
 * host where you can: a key on the same disk lets whoever rewrites the log re-sign it.
 *
 * @example
 * ```ts
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const signer = checkpointSigner({ privateKey, name: 'orders-audit' });
 * console.log(signer.verifierKey); // give this to whoever verifies
 * ```
 */
export function checkpointSigner(options: { privateKey: KeyObject | string; name: string }): CheckpointSigner {
  checkName(options.name);
  const privateKey = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('the checkpoint key must be an Ed25519 key');
  const raw = rawPublicKey(createPublicKey(privateKey));
  const id = keyId(options.name, raw);
  const name = options.name;
  return {
    name,
    verifierKey: `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`,
    sign(checkpoint) {
      return this.signNote(checkpointBody(checkpoint));
    },
    signNote(text) {
      if (!text.endsWith('\n') || text.includes('\n\n'))
        throw new TypeError('a note text is lines ending in \\n, none empty');
      const signature = sign(null, Buffer.from(text), privateKey);
      return `${text}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
    },
  };
}

/** A verifier for one key: its name, id, and public key. */
export interface CheckpointVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

/**
 * Reads a verifier key: the C2SP form `<name>+<hex id>+<base64 key>` ({@link CheckpointSigner.verifierKey}), or an
 * Ed25519 public key in PEM (then `name` says which signature line to check).
 *
 * @example
 * ```ts
 * const verifier = checkpointVerifier(readFileSync('audit.pub', 'utf8'));
 * ```
 */
export function checkpointVerifier(key: string | KeyObject, name?: string): CheckpointVerifier {
  if (typeof key === 'string' && !key.includes('-----BEGIN')) {
    const match = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(key.trim());
    const raw = match ? Buffer.from(match[3]!, 'base64') : undefined;
    if (!match || raw?.length !== 33 || raw[0] !== ED25519) throw new TypeError('not a valid Ed25519 verifier key');
    const publicKey = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]),
      format: 'der',
      type: 'spki',
    });
    const id = keyId(match[1]!, raw.subarray(1));
    if (id.toString('hex') !== match[2]) throw new TypeError('the verifier key id does not match its key');
    return { name: match[1]!, keyId: id, publicKey };
  }
  const publicKey = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('the checkpoint key must be an Ed25519 key');
  if (name === undefined) throw new TypeError('a PEM public key needs the key name its signatures carry');
  checkName(name);
  return { name, keyId: keyId(name, rawPublicKey(publicKey)), publicKey };
}

/**
 * Opens a C2SP signed note: returns its text when one of its signatures is valid for `verifier`, else `undefined`
 * (malformed, unsigned, or signed by other keys only).
 *
 * @example
 * ```ts
 * const text = verifyNote(note, checkpointVerifier('PeterNeumann+c74f20a3+ARpc2Qc...'));
 * ```
 */
export function verifyNote(
  note: string,
  verifier: CheckpointVerifier,
): { text: string; signers: string[] } | undefined {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return undefined;
  const text = note.slice(0, split + 1);
  const signers: string[] = [];
  let valid = false;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match) return undefined;
    signers.push(match[1]!);
    const blob = Buffer.from(match[2]!, 'base64');
    if (match[1] !== verifier.name || blob.length !== 68 || !blob.subarray(0, 4).equals(verifier.keyId)) continue;
    if (verify(null, Buffer.from(text), verifier.publicKey, blob.subarray(4))) valid = true;
  }
  return valid ? { text, signers } : undefined;
}

/**
 * Parses a signed checkpoint note and checks its signature by `verifier`. Returns `undefined` when the note is
 * malformed or carries no valid signature by that key.
 *
 * @example
 * ```ts
 * const cp = verifyCheckpoint(note, checkpointVerifier(pubkey));
 * if (cp) console.log(cp.size, cp.root.toString('base64'));
 * ```
 */
export function verifyCheckpoint(note: string, verifier: CheckpointVerifier): SignedCheckpoint | undefined {
  const opened = verifyNote(note, verifier);
  if (opened === undefined) return undefined;
  const lines = opened.text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (origin === undefined || origin === '' || !/^(0|[1-9][0-9]{0,15})$/.test(sizeText ?? '')) return undefined;
  const root = Buffer.from(rootText ?? '', 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) return undefined;
  let time: number | undefined;
  for (const line of lines.slice(3)) {
    if (line.startsWith('time ')) time = Date.parse(line.slice(5));
  }
  return {
    origin,
    size: Number(sizeText),
    root,
    ...(time === undefined || Number.isNaN(time) ? {} : { time }),
    note,
    signers: opened.signers,
  };
}
