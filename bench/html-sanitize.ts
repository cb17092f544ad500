// One side of the HTML sanitiser benchmark, in its own process: sanitises the same document `runs` times and
// prints {"side", "mbPerSecond", "commentsPerSecond", "heapGrowthMB", "unstable"}: heap after GC before and after
// the runs, and how many of the H5SC attack vectors came out not parse-stable (parsing and serialising the output
// again with parse5 changes it: the mark of mutation XSS).
// argv: <bulwark|sanitize-html|xss|dompurify> <runs>
import { readFileSync } from 'node:fs';
import { parseFragment, serialize } from 'parse5';
import { sanitizeHtml } from '@bulwark/sanitize';
import createDOMPurify from 'dompurify';
import { JSDOM } from 'jsdom';
import sanitizeHtmlLib from 'sanitize-html';
import { filterXSS } from 'xss';

const [side, runsText] = process.argv.slice(2) as [string, string];
const runs = Number(runsText);

// A forum post: paragraphs, formatting, links (some hostile), a list, an image, a table, and a few attacks.
const part = [
  '<h2>Release notes</h2><p>We <b>fixed</b> the <i>login</i> bug &amp; made <a href="https://example.com/docs">docs</a> better.</p>',
  '<ul><li>one <code>x &lt; y</code></li><li>two <a href="javascript:alert(1)">click</a></li><li onclick="steal()">three</li></ul>',
  '<p><img src="/shot.png" alt="screenshot" onerror="alert(1)"><script>document.cookie</script></p>',
  '<table><tr><td>a</td><td style="x">b</td></tr></table><blockquote>quoted <em>text</em></blockquote>',
  '<p>Plain text with some length to it, as people write: lorem ipsum dolor sit amet, consectetur adipiscing.</p>',
].join('');
const doc = part.repeat(20); // ~11 KB

const allowedTags = ['a', 'b', 'blockquote', 'br', 'code', 'em', 'i', 'li', 'ol', 'p', 'pre', 's', 'strong', 'u', 'ul'];
let run: (html: string) => string;
if (side === 'bulwark') run = (html) => sanitizeHtml(html, 'basic');
else if (side === 'sanitize-html') {
  run = (html) => sanitizeHtmlLib(html, { allowedTags, allowedAttributes: { a: ['href', 'title'] } });
} else if (side === 'xss') {
  const whiteList = Object.fromEntries(allowedTags.map((t) => [t, t === 'a' ? ['href', 'title'] : []]));
  run = (html) => filterXSS(html, { whiteList, stripIgnoreTag: true, stripIgnoreTagBody: ['script', 'style'] });
} else {
  const purify = createDOMPurify(new JSDOM('').window);
  run = (html) => purify.sanitize(html, { ALLOWED_TAGS: allowedTags, ALLOWED_ATTR: ['href', 'title'] });
}
const comment =
  'Nice post! <b>Thanks</b> for the <a href="https://example.com">link</a> :-) <img src=x onerror=alert(1)>';
const vectors = [
  ...readFileSync(new URL('../packages/sanitize/test/vectors/h5sc-vectors.txt', import.meta.url), 'utf8').matchAll(
    /<div id="(\d+)">([\s\S]*?)\/\/\["'`-->\]\]>\]<\/div>/g,
  ),
].map((m) => m[2]!);
const unstable = vectors.filter((v) => {
  const out = run(v);
  return serialize(parseFragment(out)) !== out;
}).length;
const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
for (let i = 0; i < 200; i++) run(doc); // warm up
const before = heap();
const start = process.hrtime.bigint();
for (let i = 0; i < runs; i++) run(doc);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const growth = (heap() - before) / 1048576;
const commentRuns = runs * 10;
const commentStart = process.hrtime.bigint();
for (let i = 0; i < commentRuns; i++) run(comment);
const commentsPerSecond = commentRuns / (Number(process.hrtime.bigint() - commentStart) / 1e9);
console.log(
  JSON.stringify({
    side,
    mbPerSecond: (doc.length * runs) / seconds / 1e6,
    commentsPerSecond,
    heapGrowthMB: growth,
    unstable,
  }),
);
