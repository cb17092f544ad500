// Shared by the benchmark scripts: pinning, and the HTTP benchmark server (bench/http-server.ts) run as a child.
import { spawn, execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

const benchDir = new URL('../bench/', import.meta.url).pathname;

// On a small machine the server and the load generator fight for cores, which swamps a few-percent difference.
// Where taskset exists, pin the server to the last core and this process (autocannon) to the others.
export const cores = cpus().length;
export const pin = cores >= 2 && hasTaskset();
function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (pin) execFileSync('taskset', ['-p', '-c', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });

export function startServer(framework, mode) {
  const command = ['--import', 'tsx', 'http-server.ts', framework, mode];
  const stdio = ['pipe', 'pipe', 'inherit'];
  const child = pin
    ? spawn('taskset', ['-c', String(cores - 1), process.execPath, ...command], { cwd: benchDir, stdio })
    : spawn(process.execPath, command, { cwd: benchDir, stdio });
  child.stdout.setEncoding('utf8');
  const lines = [];
  let waiting;
  child.stdout.on('data', (chunk) => {
    lines.push(...chunk.trim().split('\n'));
    waiting?.();
  });
  const nextLine = () =>
    new Promise((resolve) => {
      const take = () => (lines.length ? resolve(lines.shift()) : (waiting = take));
      take();
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    nextLine().then((port) => resolve({ port: Number(port), child, nextLine }));
  });
}

/** Server CPU microseconds so far (asks the server over stdin). */
export async function serverCpu(server) {
  server.child.stdin.write('cpu\n');
  const line = await server.nextLine();
  return Number(line.split(' ')[1]);
}

