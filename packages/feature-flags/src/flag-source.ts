import type { FlagDocumentInput } from './flag-definition.js';

/**
 * Where a flag document lives. `load` reads it (unvalidated: the flags validate it); `watch` reports later
 * versions; `save` writes a new version through, for `flags.set()` / `flags.remove()`. `fileSource`, `httpSource`
 * and `redisSource` are the built-in ones; any object of this shape works.
 *
 * @example
 * ```ts
 * const fromEnvJson: FlagSource = { load: async () => JSON.parse(process.env.FLAGS ?? '{}') };
 * ```
 */
export interface FlagSource {
  /** Reads the current document. Rejects when it cannot (the flags keep their last good document and retry). */
  load(): Promise<unknown>;
  /**
   * Starts reporting new versions: `onUpdate` with a document, `onError` when one could not be read. Returns a
   * function that stops watching.
   */
  watch?(onUpdate: (document: unknown) => void, onError: (error: Error) => void): () => void;
  /** Writes a new version (already validated). Sources without it are read-only: `set()` then rejects. */
  save?(document: FlagDocumentInput): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void> | void;
}
