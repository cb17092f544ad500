// Packs every package, installs the tarballs into a fresh app outside the workspace (as a user would, from npm),
// and runs the smoke tests in scripts/smoke: ESM on Fastify, CommonJS on Koa, strict TypeScript on Express (under
// node16 and bundler resolution) — the packages combined as their READMEs show them. Then every TypeScript block of
// every README and guide is compiled against the tarballs, and those that are whole programs run
// (scripts/readme-blocks.mjs). Exits non-zero on the first failure.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBlocks } from './readme-blocks.mjs';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'bulwark-tarballs-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
const run = (cmd, args, cwd) => {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
};

try {
  // pnpm's pack turns `workspace:` ranges into the packages' versions.
  for (const dir of readdirSync(join(root, 'packages'))) {
    run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', dir));
  }
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  const local = Object.fromEntries(
    files.map((f) => [
      `@bulwark/${f.replace(/^bulwark-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')}`,
      `file:${join(tarballs, f)}`,
    ]),
  );
  cpSync(join(root, 'scripts', 'smoke'), app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'bulwark-smoke',
        private: true,
        dependencies: {
          ...local,
          express: '^5.1.0',
          fastify: '^5.6.0',
          koa: '^3.0.0',
          '@koa/router': '^15.7.0',
          '@koa/bodyparser': '^6.1.0',
          'prom-client': '^15.1.0',
          '@openfeature/server-sdk': '^1.23.0',
          'fast-check': '^4.3.0',
          zod: '^4.1.0',
          pg: '^8.16.0',
          ioredis: '^5.8.0',
          redis: '^5.8.0',
          pino: '^9.9.0',
        },
        devDependencies: {
          typescript: '~5.9.3',
          '@types/node': '^20.19.0',
          '@types/express': '^5.0.3',
          '@types/koa': '^3.0.0',
          '@types/pg': '^8.15.0',
          vitest: '^4.0.0',
        },
        // The packages depend on each other by version: point those at the tarballs too.
        overrides: local,
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
  run('node', ['esm-fastify.mjs'], app);
  // Files users take from the package as they are.
  for (const file of ['@bulwark/telemetry/grafana/bulwark-dashboard.json']) {
    JSON.parse(readFileSync(join(app, 'node_modules', file), 'utf8'));
  }
  run('node', ['cjs-koa.cjs'], app);
  run('npx', ['tsc', '-p', 'tsconfig.json'], app);
  run('npx', ['tsc', '-p', 'tsconfig.bundler.json'], app);
  // Every TypeScript block of every README and guide, compiled under both resolutions; whole programs run.
  const blocks = writeBlocks(app);
  console.log(`${blocks.length} README and guide code blocks`);
  run('npx', ['tsc', '-p', 'blocks/tsconfig.node16.json'], app);
  run('npx', ['tsc', '-p', 'blocks/tsconfig.bundler.json'], app);
  if (blocks.some((b) => b.run)) run('npx', ['tsc', '-p', 'blocks/tsconfig.run.json'], app);
  for (const b of blocks.filter((b) => b.run)) {
    console.log(`# ${b.line}`);
    run('node', [`blocks/out/${b.name}.js`], app);
  }
  console.log('tarballs: ok');
} finally {
  if (!process.env.KEEP_SMOKE) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
