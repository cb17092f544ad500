// The TypeScript code blocks of every README and guide, written out as modules so that the tarball check
// compiles them against the packed packages (and runs the ones that are whole programs).
//
// A block's info string says what to do with it; GitHub and npm read only its first word:
//   ```ts              compiled as a module of its own
//   ```ts continued    compiled after the last block of the same file that stands alone: several blocks
//                      (one per framework, say) can build on one set-up block
//   ```ts run          compiled, then run with node; it must exit by itself
//   ```ts serve        compiled, then started with PORT set: it must answer GET /readyz with 200, and exit 0 on
//                      SIGTERM (a whole service with graceful shutdown)
//   ```ts sketch       not compiled: a shape in prose, not code (say so in the text around it)
// An HTML comment right before a block, `<!-- prelude: … -->`, is prepended to it unseen: the declarations a
// fragment takes from its context (`const app = express();`), so the reader sees only the lines that matter.
//
// `node scripts/readme-blocks.mjs <dir>` writes the blocks into <dir>/blocks (for a smoke app kept by
// KEEP_SMOKE=1).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** The Markdown files whose code users copy: the READMEs and everything under docs/. */
export function markdownFiles() {
  const files = [join(root, 'README.md')];
  for (const dir of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, dir))) {
      const readme = join(root, dir, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  return files;
}

/**
 * The blocks of one Markdown file: `{ name, line, code, mode }` (`module`, `run` or `serve`), `continued` ones with
 * their set-up block's code.
 * Throws on a `continued` block with nothing before it, or an unknown word in an info string.
 */
export function blocksOf(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const slug = relative(root, file)
    .replace(/\.md$/, '')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .toLowerCase();
  const blocks = [];
  const nameOf = (n) => `${slug}-${String(n + 1).padStart(2, '0')}`;
  let base; // the last block that stands alone: what `continued` blocks build on
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(\w+))?\s*$/.exec(lines[i]);
    if (open === null) {
      if (/^```/.test(lines[i])) i = closing(lines, i, file); // skip other languages' blocks whole
      continue;
    }
    const mode = open[2] ?? 'module';
    if (!['module', 'continued', 'run', 'serve', 'sketch'].includes(mode)) {
      throw new Error(`${relative(root, file)}:${i + 1}: unknown block mode '${mode}'`);
    }
    const end = closing(lines, i, file);
    const body = lines.slice(i + 1, end).join('\n');
    const prelude = /^<!--\s*prelude:\s*([\s\S]*?)-->\s*$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
    const code = `${prelude.trim()}\n${body}\n`;
    const where = `// ${relative(root, file)}:${i + 1}\n`;
    if (mode === 'continued') {
      if (base === undefined) throw new Error(`${relative(root, file)}:${i + 1}: 'continued' with no block before`);
      blocks.push({
        name: nameOf(blocks.length),
        line: `${relative(root, file)}:${i + 1}`,
        code: `${base}${where}${code}`,
        mode: 'module',
      });
    } else if (mode !== 'sketch') {
      base = `${where}${code}`;
      blocks.push({
        name: nameOf(blocks.length),
        line: `${relative(root, file)}:${i + 1}`,
        code: base,
        mode,
      });
    }
    i = end;
  }
  return blocks;
}

function closing(lines, open, file) {
  for (let j = open + 1; j < lines.length; j++) if (/^```\s*$/.test(lines[j])) return j;
  throw new Error(`${relative(root, file)}:${open + 1}: code block never closed`);
}

const strict = {
  target: 'ES2022',
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  // Our own .d.ts files are checked with skipLibCheck off by the smoke app's tsconfig; here it would also check
  // third-party types against each other (@types/koa against content-disposition's own, which disagree).
  skipLibCheck: true,
  types: ['node'],
};

/**
 * Writes every block into `<dir>/blocks/<name>.ts` (each a module: `export {}` keeps names from colliding), with
 * a tsconfig per module resolution users pick (`node16`, `bundler`) and one that emits the `run` and `serve` blocks into
 * `<dir>/blocks/out`. Returns the list.
 */
export function writeBlocks(dir) {
  const out = join(dir, 'blocks');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const blocks = markdownFiles().flatMap(blocksOf);
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n'); // ESM, as the READMEs are written
  for (const b of blocks) writeFileSync(join(out, `${b.name}.ts`), `${b.code}export {};\n`);
  const config = (name, compilerOptions, files) =>
    writeFileSync(
      join(out, name),
      JSON.stringify({ compilerOptions: { ...strict, ...compilerOptions }, files }, null, 2),
    );
  const all = blocks.map((b) => `${b.name}.ts`);
  config('tsconfig.node16.json', { module: 'Node16', moduleResolution: 'Node16', noEmit: true }, all);
  config('tsconfig.bundler.json', { module: 'ESNext', moduleResolution: 'Bundler', noEmit: true }, all);
  const run = blocks.filter((b) => b.mode !== 'module').map((b) => `${b.name}.ts`);
  config('tsconfig.run.json', { module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' }, run);
  return blocks;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: node scripts/readme-blocks.mjs <dir>');
  const blocks = writeBlocks(dir);
  const ran = blocks.filter((b) => b.mode !== 'module').length;
  console.log(`${blocks.length} blocks (${ran} to run) in ${join(dir, 'blocks')}`);
}
