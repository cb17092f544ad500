// Packs every package, installs the tarballs into a fresh app outside the workspace (as a user would, from npm),
// and runs the smoke tests in scripts/smoke: ESM on Fastify, CommonJS on Koa, strict TypeScript on Express (under
// node16 and bundler resolution) — the packages combined as their READMEs show them. Then every TypeScript block of
// every README and guide is compiled against the tarballs, and those that are whole programs run
// (scripts/readme-blocks.mjs). Exits non-zero on the first failure.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
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

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a whole service from a guide with PORT set, waits for GET /readyz to answer 200 and checks /metrics, then
 * sends SIGTERM: the service must shut down gracefully, exiting 0.
 */
async function serve(file) {
  const port = await freePort();
  const child = spawn('node', [file], { env: { ...process.env, PORT: String(port) }, stdio: 'inherit' });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const status = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${file}: /readyz never answered 200`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    if (!metrics.includes('http_server_request_duration_seconds')) throw new Error(`${file}: no metrics`);
    console.log(`  /readyz 200, /metrics ok on port ${port}`);
  } finally {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${file}: exited ${code} after SIGTERM, not 0`);
  console.log('  SIGTERM: exit 0');
}

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
  if (blocks.some((b) => b.mode !== 'module')) run('npx', ['tsc', '-p', 'blocks/tsconfig.run.json'], app);
  for (const b of blocks.filter((b) => b.mode === 'run')) {
    console.log(`# ${b.line}`);
    run('node', [`blocks/out/${b.name}.js`], app);
  }
  for (const b of blocks.filter((b) => b.mode === 'serve')) {
    console.log(`# ${b.line}: serve`);
    await serve(join(app, 'blocks', 'out', `${b.name}.js`));
  }
  console.log('tarballs: ok');
} finally {
  if (!process.env.KEEP_SMOKE) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
