// Checks the links of every README and guide (the files scripts/readme-blocks.mjs compiles): a relative link must
// name a file or directory that exists, and a `#fragment` a heading of the file it points to. External links are
// not fetched (CI has no network beyond the registries). Exits non-zero listing every broken link.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { markdownFiles } from './readme-blocks.mjs';

const root = new URL('..', import.meta.url).pathname;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = (file) => {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
};

const broken = [];
let checked = 0;
for (const file of markdownFiles()) {
  // Code blocks hold code, not links.
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, ' '));
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    checked++;
    const [path, fragment] = target.split('#');
    const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
    const line = text.slice(0, match.index).split('\n').length;
    const where = `${relative(root, file)}:${line}`;
    if (!existsSync(resolved)) {
      broken.push(`${where}: ${target} (no such file)`);
    } else if (fragment !== undefined && statSync(resolved).isFile() && resolved.endsWith('.md')) {
      if (!anchorsOf(resolved).has(fragment)) broken.push(`${where}: ${target} (no such heading)`);
    }
  }
}
if (broken.length > 0) {
  console.log(`${broken.length} broken link(s):\n${broken.join('\n')}`);
  process.exit(1);
}
console.log(`links: ${checked} relative links ok`);
