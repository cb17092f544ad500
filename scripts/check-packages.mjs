// Packaging checks for every publishable package: publint --strict and attw --pack (profile node16: we ship no
// typesVersions, so node10 subpath resolution is out of scope). Run after `pnpm build`.
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';

const bin = (name) => `node_modules/.bin/${name}`;
let failed = 0;
for (const name of readdirSync('packages')) {
  const dir = `packages/${name}`;
  if (!existsSync(`${dir}/package.json`)) continue;
  const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  if (pkg.private) continue;
  for (const [tool, args] of [
    ['publint', ['--strict']],
    ['attw', ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(`${process.cwd()}/${bin(tool)}`, args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
      console.log(`ok   ${tool} ${pkg.name}`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${tool} ${pkg.name}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}
if (failed > 0) {
  console.log(`${failed} packaging check(s) failed`);
  process.exit(1);
}
