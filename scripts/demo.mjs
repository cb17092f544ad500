// `npm run demo`: installs, builds, then runs the demo server in the foreground. The server runs in its own process
// group and gets each SIGTERM/SIGINT this process gets exactly once, so `docker stop` (or `kill`) of the npm process
// shuts it down gracefully instead of leaving it running, and Ctrl-C is not delivered twice (twice means "at once").
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });
run('npx', ['-y', 'pnpm@10.34.8', 'install']);
run('npm', ['run', 'build']);

// `node --import tsx`, not the tsx CLI: one process, whose exit code is the demo's.
const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: new URL('../examples/demo/', import.meta.url),
  stdio: 'inherit',
  detached: true,
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
