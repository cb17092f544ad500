import { defineConfig, type Options } from 'tsup';

/**
 * The build every package shares: ESM + CJS with .d.ts/.d.cts, one chunk per format for shared code (so an
 * error class exists once per format), Node 20 target. A package's tsup.config.ts names only its entries.
 */
export function packageBuild(entry: Record<string, string>): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
  }) as Options;
}
