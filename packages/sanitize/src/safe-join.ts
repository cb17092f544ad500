import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { BulwarkError, isBulwarkError } from '@bulwark/core';

/** A user path that would leave its root, or could not be read safely. `code` is `BULWARK_PATH_TRAVERSAL`. */
export class PathTraversalError extends BulwarkError {
  declare readonly code: 'BULWARK_PATH_TRAVERSAL';

  constructor(message: string) {
    super('BULWARK_PATH_TRAVERSAL', message);
  }
}

/**
 * True when `error` is a {@link PathTraversalError} (from any copy of the package: `instanceof` fails across the
 * ESM and CommonJS builds).
 *
 * @example
 * ```ts
 * try { file = safeJoin(root, req.params.name); } catch (e) { if (isPathTraversalError(e)) return res.sendStatus(404); throw e; }
 * ```
 */
export function isPathTraversalError(error: unknown): error is PathTraversalError {
  return isBulwarkError(error, 'BULWARK_PATH_TRAVERSAL');
}

function contained(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Joins a user-supplied path under `root`, refusing any that would leave it: NUL refused, percent-decoded exactly
 * once, NFKC-normalised (fullwidth `．．／` is `../`), backslashes taken as separators, resolved, and contained by
 * `path.relative` — a prefix check is not enough (`/var/app-evil` starts with `/var/app`). Symlinks are not
 * followed: use {@link safeJoinReal} when the tree may hold links.
 *
 * @example
 * ```ts
 * safeJoin('/srv/uploads', 'a/b.png'); // '/srv/uploads/a/b.png'
 * safeJoin('/srv/uploads', '..%2f..%2fetc/passwd'); // throws PathTraversalError
 * ```
 */
export function safeJoin(root: string, userPath: string): string {
  if (userPath.includes('\u0000')) throw new PathTraversalError('the path contains a NUL character');
  let decoded: string;
  try {
    decoded = decodeURIComponent(userPath);
  } catch {
    throw new PathTraversalError('the path has a malformed percent escape');
  }
  if (decoded.includes('\u0000')) throw new PathTraversalError('the path contains a NUL character');
  const normalised = decoded.normalize('NFKC').replaceAll('\\', '/');
  const base = resolve(root);
  const target = resolve(base, `.${normalised.startsWith('/') ? '' : '/'}${normalised}`);
  if (!contained(base, target)) throw new PathTraversalError('the path leaves its root');
  return target;
}

/**
 * {@link safeJoin}, then the same containment checked on the real paths (symlinks resolved, for the root too): a
 * link inside the root pointing out of it is refused. The target need not exist: its nearest existing parent is
 * resolved.
 *
 * @example
 * ```ts
 * const file = await safeJoinReal('/srv/uploads', req.params.name);
 * ```
 */
export async function safeJoinReal(root: string, userPath: string): Promise<string> {
  const target = safeJoin(root, userPath);
  const realRoot = await realpath(resolve(root));
  let existing = target;
  let rest = '';
  for (;;) {
    try {
      const real = await realpath(existing);
      const full = rest === '' ? real : resolve(real, rest);
      if (!contained(realRoot, full)) throw new PathTraversalError('the path leaves its root through a link');
      return full;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = resolve(existing, '..');
      if (parent === existing) throw error;
      rest = rest === '' ? relative(parent, existing) : `${relative(parent, existing)}${sep}${rest}`;
      existing = parent;
    }
  }
}
