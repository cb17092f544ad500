import { z } from 'zod';
import { BulwarkError } from '@bulwark/core';
import { parseOptions } from '@bulwark/core/internal';

/**
 * Characters that reorder text without being visible: the bidirectional embeddings, overrides and isolates, and the
 * direction marks (`invoice\u202Efdp.exe` displays as `invoiceexe.pdf`).
 */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** C0 and C1 controls except tab, line feed and carriage return (which `keepNewlines` decides), and DEL. */
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const CONTROLS_AND_NEWLINES = /[\u0000-\u001F\u007F-\u009F]/g;

const optionsSchema = z
  .object({
    /** Unicode normalisation: `NFC` (compose, the web's form), `NFKC` (also fold look-alikes), or `false`. */
    normalize: z.union([z.enum(['NFC', 'NFKC']), z.literal(false)]).default('NFC'),
    /** What a NUL does: refuse the string (`reject`), or drop it (`strip`). */
    nullBytes: z.enum(['reject', 'strip']).default('reject'),
    /** Drop control characters. */
    stripControls: z.boolean().default(true),
    /** Keep tab, line feed and carriage return when stripping controls. */
    keepNewlines: z.boolean().default(true),
    /** Drop bidirectional overrides, embeddings, isolates and marks. */
    stripBidi: z.boolean().default(true),
    /** Cap the length in UTF-8 bytes, never splitting a character. */
    maxBytes: z.number().int().positive().optional(),
  })
  .strict();

/** Options of {@link stringCleaner} and {@link cleanString}. */
export type CleanStringOptions = z.input<typeof optionsSchema>;

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a code point (a surrogate pair stays whole or
 * goes whole).
 *
 * @example
 * ```ts
 * truncateUtf8('héllo', 2); // 'h' ('é' takes two bytes and would not fit whole)
 * ```
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let size: number;
    let units = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size = 4;
        units = 2;
      } else size = 3;
    } else size = 3;
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    i += units - 1;
  }
  return text;
}

/**
 * A string cleaner, validated once: Unicode normalisation, NUL refused (or dropped), control and bidi characters
 * dropped, and a byte cap that never splits a character. Meant for free text a person typed (names, comments,
 * titles) before storing or logging it; it does not make text safe for HTML, SQL or a shell (escape at the sink).
 *
 * @example
 * ```ts
 * const clean = stringCleaner({ normalize: 'NFKC', maxBytes: 200 });
 * clean('ｐａｙ\u202Efdp.exe'); // 'payfdp.exe'
 * ```
 */
export function stringCleaner(options?: CleanStringOptions): (text: string) => string {
  const o = parseOptions(optionsSchema, options ?? {}, 'stringCleaner()');
  const controls = o.keepNewlines ? CONTROLS : CONTROLS_AND_NEWLINES;
  return (text) => {
    if (text.includes('\u0000')) {
      if (o.nullBytes === 'reject') throw new BulwarkError('BULWARK_NULL_BYTE', 'the text contains a NUL character');
      text = text.replaceAll('\u0000', '');
    }
    if (o.normalize !== false) text = text.normalize(o.normalize);
    if (o.stripControls) text = text.replace(controls, '');
    if (o.stripBidi) text = text.replace(BIDI, '');
    return o.maxBytes === undefined ? text : truncateUtf8(text, o.maxBytes);
  };
}

let defaultCleaner: ((text: string) => string) | undefined;

/**
 * Cleans a string with the defaults (NFC, NUL refused, controls and bidi characters dropped) or `options`.
 *
 * @example
 * ```ts
 * cleanString('Ze\u0301nith\u0007'); // 'Zénith' (composed, bell dropped)
 * ```
 */
export function cleanString(text: string, options?: CleanStringOptions): string {
  if (options === undefined) return (defaultCleaner ??= stringCleaner())(text);
  return stringCleaner(options)(text);
}
