import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per package under packages/ (and per example with tests), found on disk so a new package
// needs no edit here.
// The `@bulwark/source` export condition points each package at its TypeScript source, so tests run
// without a build and a change in core is seen at once by the packages that import it.
const packages = [
  ...readdirSync('packages')
    .filter((name) => existsSync(`packages/${name}/package.json`))
    .map((name) => `packages/${name}`),
  ...readdirSync('examples')
    .filter((name) => existsSync(`examples/${name}/test`))
    .map((name) => `examples/${name}`),
];

export default defineConfig({
  test: {
    projects: packages.map((dir) => ({
      resolve: { conditions: ['@bulwark/source'] },
      ssr: { resolve: { conditions: ['@bulwark/source'] } },
      test: {
        name: dir.split('/')[1]!,
        root: dir,
        include: ['test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 20_000,
      },
    })),
  },
});
