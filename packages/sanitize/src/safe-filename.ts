import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import { truncateUtf8 } from './clean-string.js';

const optionsSchema = z
  .object({
    /** Put in place of each unsafe character. Must itself be safe. */
    replacement: z
      .string()
      .max(8)
      .regex(/^[^/\\?<>:*|"\u0000-\u001F\u007F-\u009F]*$/, { message: 'must not contain unsafe characters' })
      .default('_'),
    /** Longest name in UTF-8 bytes (ext4, APFS and NTFS all allow 255). */
    maxBytes: z.number().int().min(16).max(255).default(255),
    /** The name when nothing usable is left (`''`, `..`, only unsafe characters). */
    fallback: z.string().min(1).default('file'),
  })
  .strict();

/** Options of {@link safeFilename}. */
export type SafeFilenameOptions = z.input<typeof optionsSchema>;

const UNSAFE = /[/\\?<>:*|"\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** Windows device names, reserved with any extension and in any case (`con.txt`, `LPT1`). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i;
/** The longest extension kept whole when a name is shortened. */
const MAX_EXTENSION_BYTES = 32;

/**
 * A file name safe to create on Linux, macOS and Windows from any input: NFC-normalised; path separators, reserved
 * characters, controls and bidi overrides replaced; trailing dots and spaces removed (Windows drops them
 * silently); Windows device names prefixed; at most `maxBytes` UTF-8 bytes with the extension kept; never empty,
 * `.` or `..`. Different inputs can still give the same name: store uploads under names you generate, and keep this
 * one for display and downloads.
 *
 * @example
 * ```ts
 * safeFilename('../../etc/passwd'); // '.._.._etc_passwd'
 * safeFilename('invoice\u202Efdp.exe'); // 'invoice_fdp.exe'
 * safeFilename('CON.txt'); // '_CON.txt'
 * ```
 */
export function safeFilename(name: string, options?: SafeFilenameOptions): string {
  const o = options === undefined ? defaults : parseOptions(optionsSchema, options, 'safeFilename()');
  let out = name.normalize('NFC').replace(UNSAFE, o.replacement);
  out = out.replace(/[. ]+$/, '');
  if (RESERVED.test(out)) out = `_${out}`;
  if (out === '' || /^\.+$/.test(out)) out = o.fallback;
  if (Buffer.byteLength(out, 'utf8') > o.maxBytes) {
    const dot = out.lastIndexOf('.');
    const ext = dot > 0 ? out.slice(dot) : '';
    const keepExt = ext !== '' && Buffer.byteLength(ext, 'utf8') <= MAX_EXTENSION_BYTES;
    const base = keepExt ? out.slice(0, dot) : out;
    const room = o.maxBytes - (keepExt ? Buffer.byteLength(ext, 'utf8') : 0);
    out = truncateUtf8(base, room).replace(/[. ]+$/, '') + (keepExt ? ext : '');
    if (out === '' || out === ext) out = o.fallback + ext;
  }
  return out;
}

const defaults = optionsSchema.parse({});
