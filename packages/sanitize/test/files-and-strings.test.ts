import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanString,
  isPathTraversalError,
  PathTraversalError,
  safeFilename,
  safeJoin,
  safeJoinReal,
  stringCleaner,
  truncateUtf8,
} from '../src/index.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

describe('truncateUtf8 and cleanString', () => {
  it('caps UTF-8 bytes without splitting a code point', () => {
    expect(truncateUtf8('héllo', 2)).toBe('h');
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(40), (s, max) => {
        const out = truncateUtf8(s, max);
        expect(utf8(out)).toBeLessThanOrEqual(max);
        expect(s.startsWith(out)).toBe(true);
        expect(out).not.toMatch(/[\uD800-\uDBFF]$/); // never half a surrogate pair
        // nothing more fits: the next code point would overflow
        if (out.length < s.length)
          expect(utf8(s.slice(0, out.length + (s.codePointAt(out.length)! > 0xffff ? 2 : 1)))).toBeGreaterThan(max);
      }),
    );
  });

  it('normalises, drops controls and bidi overrides, refuses NUL', () => {
    expect(cleanString('Ze\u0301nith\u0007')).toBe('Zénith');
    expect(cleanString('line1\nline2\ttab')).toBe('line1\nline2\ttab');
    expect(cleanString('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(stringCleaner({ normalize: 'NFKC' })('ｐａｙ')).toBe('pay');
    expect(() => cleanString('a\u0000b')).toThrow(expect.objectContaining({ code: 'BULWARK_NULL_BYTE' }));
    expect(stringCleaner({ nullBytes: 'strip', keepNewlines: false, maxBytes: 3 })('a\u0000\nbcd')).toBe('abc');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u0000')),
        (s) => {
          const out = cleanString(s);
          expect(cleanString(out)).toBe(out); // idempotent
          expect(out).not.toMatch(/[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
        },
      ),
    );
  });
});

describe('safeFilename', () => {
  it.each([
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['invoice\u202Efdp.exe', 'invoice_fdp.exe'],
    ['CON.txt', '_CON.txt'],
    ['lpt1', '_lpt1'],
    ['report. . .', 'report'],
    ['..', 'file'],
    ['', 'file'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['tab\there', 'tab_here'],
  ])('%j → %j', (input, expected) => {
    expect(safeFilename(input)).toBe(expected);
  });

  it('keeps the extension when shortening to 255 bytes', () => {
    const name = `${'é'.repeat(200)}.pdf`;
    const out = safeFilename(name);
    expect(utf8(out)).toBeLessThanOrEqual(255);
    expect(out.endsWith('.pdf')).toBe(true);
  });

  it('for any input: never empty or dots, no unsafe character, within the limit, idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 16, max: 255 }), (s, maxBytes) => {
        const out = safeFilename(s, { maxBytes });
        expect(out).not.toBe('');
        expect(out).not.toMatch(/^\.+$/);
        expect(out).not.toMatch(/[/\\?<>:*|"\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
        expect(out).not.toMatch(/[. ]$/);
        expect(utf8(out)).toBeLessThanOrEqual(maxBytes);
        expect(safeFilename(out, { maxBytes })).toBe(out);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('safeJoin', () => {
  const root = resolve('/srv/uploads');
  it.each([
    '../etc/passwd',
    '..%2f..%2fetc/passwd',
    '%2e%2e/%2e%2e/etc',
    '..\\..\\windows\\win.ini',
    '\uFF0E\uFF0E\uFF0Fetc',
    'a/../../b',
    '../uploads-evil/x',
    'x\u0000.png',
    'x%00.png',
    '%E0%A4%A',
  ])('refuses %j', (path) => {
    expect(() => safeJoin(root, path)).toThrow(PathTraversalError);
    let caught: unknown;
    try {
      safeJoin(root, path);
    } catch (error) {
      caught = error;
    }
    expect(isPathTraversalError(caught)).toBe(true);
    expect(isPathTraversalError(new Error('x'))).toBe(false);
  });

  it.each([
    ['a/b.png', join(root, 'a/b.png')],
    ['/etc/passwd', join(root, 'etc/passwd')],
    ['%252e%252e/x', join(root, '%2e%2e/x')], // decoded once: the literal name %2e%2e
    ['a/./b/../c', join(root, 'a/c')],
  ])('joins %j under the root', (path, expected) => {
    expect(safeJoin(root, path)).toBe(expected);
  });

  it('never leaves the root, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('..', '.', 'a', '%2e%2e', '\\', '/', '%2f', '\uFF0E', '\uFF0F', '~', 'b.txt', '%5c'), {
          maxLength: 12,
        }),
        (parts) => {
          try {
            const out = safeJoin(root, parts.join(''));
            const rel = relative(root, out);
            expect(rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(PathTraversalError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  describe('safeJoinReal', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'bulwark-join-'));
      mkdirSync(join(dir, 'root/inside'), { recursive: true });
      mkdirSync(join(dir, 'outside'));
      writeFileSync(join(dir, 'outside/secret'), 'x');
      symlinkSync(join(dir, 'outside'), join(dir, 'root/escape'));
      symlinkSync(join(dir, 'root/inside'), join(dir, 'root/alias'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a link out of the root, follows one inside it, and allows paths that do not exist yet', async () => {
      await expect(safeJoinReal(join(dir, 'root'), 'escape/secret')).rejects.toThrow(PathTraversalError);
      await expect(safeJoinReal(join(dir, 'root'), 'escape/new-file')).rejects.toThrow(PathTraversalError);
      await expect(safeJoinReal(join(dir, 'root'), 'alias/x.txt')).resolves.toMatch(/inside[/\\]x\.txt$/);
      await expect(safeJoinReal(join(dir, 'root'), 'new/dir/file')).resolves.toMatch(/root[/\\]new[/\\]dir[/\\]file$/);
    });
  });
});
