import { watch as watchFs, type FSWatcher } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import type { FlagDocumentInput } from './flag-definition.js';
import type { FlagSource } from './flag-source.js';

const optionsSchema = z
  .object({
    /** Reload when the file changes (an editor's save, a `mv` into place, a ConfigMap update). */
    watch: z.boolean().default(false),
    /** `yaml` for .yaml/.yml files, else `json`, unless set. */
    format: z.enum(['json', 'yaml']).optional(),
    /** Quiet time after the last file event before reloading: editors write in several steps. */
    debounceMs: z.number().int().min(0).default(50),
  })
  .strict();

/** Options of {@link fileSource}. */
export type FileSourceOptions = z.input<typeof optionsSchema>;

/**
 * A flag document in a JSON or YAML file. With `watch`, changes are picked up; a bad edit keeps the last good
 * document in force and is reported on the flags' `onError`. Writes (`flags.set()`) go to a temporary file renamed
 * over the original, so a reader never sees half a file.
 *
 * @example
 * ```ts
 * const flags = featureFlags({ source: fileSource('./flags.yaml', { watch: true }) });
 * await flags.ready();
 * ```
 */
export function fileSource(path: string, options?: FileSourceOptions): FlagSource {
  const opts = parseOptions(optionsSchema, options ?? {}, 'fileSource()');
  const file = resolve(path);
  const format = opts.format ?? (['.yaml', '.yml'].includes(extname(file).toLowerCase()) ? 'yaml' : 'json');
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;

  const load = async (): Promise<unknown> => {
    const text = await readFile(file, 'utf8');
    try {
      return format === 'yaml' ? (await import('yaml')).parse(text) : JSON.parse(text);
    } catch (error) {
      throw new Error(`${file}: not valid ${format.toUpperCase()}: ${(error as Error).message}`, { cause: error });
    }
  };

  return {
    load,
    watch(onUpdate, onError) {
      if (!opts.watch) return () => {};
      // Watch the directory, not the file: a rename into place replaces the inode a file watch would follow.
      watcher = watchFs(dirname(file), (_event, name) => {
        if (name !== null && name !== basename(file)) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          load().then(onUpdate, (error: Error) => {
            // Between a writer's unlink and rename the file may briefly be absent: the next event reloads it.
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError(error);
          });
        }, opts.debounceMs);
      });
      watcher.on('error', (error) => onError(error));
      return () => {
        clearTimeout(timer);
        watcher?.close();
        watcher = undefined;
      };
    },
    async save(document: FlagDocumentInput) {
      const text =
        format === 'yaml' ? (await import('yaml')).stringify(document) : `${JSON.stringify(document, null, 2)}\n`;
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temp, text, 'utf8');
      try {
        await rename(temp, file);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
