import { parseFragment, serialize, type DefaultTreeAdapterMap } from 'parse5';
import { parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';

type Node = DefaultTreeAdapterMap['childNode'];
type ParentNode = DefaultTreeAdapterMap['parentNode'];
type Element = DefaultTreeAdapterMap['element'];

const HTML_NS = 'http://www.w3.org/1999/xhtml';

/** What `sanitizeHtml` keeps: tags, attributes per tag (`'*'` for every kept tag), URL schemes per attribute. */
export interface HtmlPolicy {
  /** Elements kept (lower-case names). Other elements are removed, their text and allowed children kept. */
  readonly tags: readonly string[];
  /** Attributes kept per tag, and under `'*'` on every kept tag. Event handlers (`on…`) are never kept. */
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  /**
   * Schemes a URL attribute may use (`href`, `src`, `cite`...). Default `http`, `https` and `mailto` for `href`,
   * `http` and `https` for the others. Relative URLs are always allowed; anything else drops the attribute.
   */
  readonly schemes?: Readonly<Record<string, readonly string[]>>;
  /** Add `rel="noopener noreferrer"` to links that open a new window or leave the site (default true). */
  readonly safeLinks?: boolean;
}

const text: HtmlPolicy = { tags: [] };
const basic: HtmlPolicy = {
  tags: ['a', 'b', 'blockquote', 'br', 'code', 'em', 'i', 'li', 'ol', 'p', 'pre', 's', 'strong', 'u', 'ul'],
  attributes: { a: ['href', 'title'] },
};
const rich: HtmlPolicy = {
  tags: [
    ...basic.tags,
    'abbr',
    'caption',
    'dd',
    'del',
    'div',
    'dl',
    'dt',
    'figcaption',
    'figure',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'img',
    'ins',
    'kbd',
    'mark',
    'q',
    'small',
    'span',
    'sub',
    'sup',
    'table',
    'tbody',
    'td',
    'tfoot',
    'th',
    'thead',
    'tr',
  ],
  attributes: {
    a: ['href', 'title', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    abbr: ['title'],
    q: ['cite'],
    blockquote: ['cite'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan', 'scope'],
    '*': ['lang', 'dir'],
  },
};

/**
 * Ready-made policies: `strict` keeps text only, `basic` formatting and links, `rich` also headings, images, tables
 * and figures.
 */
export const htmlPolicies = Object.freeze({ strict: text, basic, rich });

// Removed with everything inside: their content is not text a reader should see, or is parsed by other rules.
const DROP_WITH_CONTENT = new Set([
  'script',
  'style',
  'template',
  'iframe',
  'object',
  'embed',
  'noscript',
  'noembed',
  'noframes',
  'xmp',
  'plaintext',
  'title',
  'textarea',
  'select',
  'option',
  'svg',
  'math',
  'head',
  'frameset',
  'frame',
  'applet',
  'base',
  'link',
  'meta',
]);
// Attributes holding URLs, checked against the policy's schemes.
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite', 'action', 'formaction', 'poster', 'background', 'longdesc']);
const MAX_DEPTH = 256;

// Nesting estimate before parsing: the HTML parser scans its stack of open elements at many start tags, so input
// nested tens of thousands deep costs quadratic time (20 000 nested <div> take 2 s in parse5). Elements that close
// themselves or each other are not counted; the estimate can only overstate the depth.
const MAX_NESTING = 1024;
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>/g;
const NOT_NESTING = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
  'param',
  'keygen',
  'p',
  'li',
  'dt',
  'dd',
  'tr',
  'td',
  'th',
  'option',
  'optgroup',
  'rb',
  'rt',
  'rtc',
  'rp',
  'thead',
  'tbody',
  'tfoot',
  'colgroup',
  'caption',
]);

function nestsTooDeep(input: string): boolean {
  let depth = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(input); m !== null; m = TAG.exec(input)) {
    if (NOT_NESTING.has(m[2]!.toLowerCase()) || m[3] === '/') continue;
    if (m[1] === '/') depth = Math.max(0, depth - 1);
    else if (++depth > MAX_NESTING) return true;
  }
  return false;
}

/**
 * Input too deep to parse in bounded time, as the text a browser would show for it: the parser's newline and NUL
 * handling, then `&`, no-break space, `<` and `>` escaped as parse5 serialises text (so sanitising it again changes
 * nothing).
 */
function asText(input: string): string {
  return input
    .replace(/\r\n?/g, '\n')
    .replace(/\0/g, '\uFFFD')
    .replace(/[&\u00a0<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&nbsp;'));
}

const policySchema = z
  .object({
    tags: z.array(z.string().regex(/^[a-z][a-z0-9]*$/, 'lower-case tag names')),
    attributes: z
      .record(z.string(), z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case attribute names')))
      .optional(),
    schemes: z.record(z.string(), z.array(z.string().regex(/^[a-z][a-z0-9+.-]*$/, 'lower-case schemes'))).optional(),
    safeLinks: z.boolean().default(true),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const tag of p.tags) {
      if (DROP_WITH_CONTENT.has(tag))
        ctx.addIssue({ code: 'custom', path: ['tags'], message: `<${tag}> cannot be allowed` });
    }
    for (const [tag, names] of Object.entries(p.attributes ?? {})) {
      for (const name of names) {
        if (name.startsWith('on') || name === 'style' || name === 'srcdoc') {
          ctx.addIssue({ code: 'custom', path: ['attributes', tag], message: `${name} cannot be allowed` });
        }
      }
    }
  });

interface CompiledPolicy {
  readonly tags: ReadonlySet<string>;
  readonly attributes: ReadonlyMap<string, ReadonlySet<string>>;
  readonly global: ReadonlySet<string>;
  readonly schemes: (attribute: string) => ReadonlySet<string>;
  readonly safeLinks: boolean;
}

const compiled = new WeakMap<HtmlPolicy, CompiledPolicy>();

function compile(policy: HtmlPolicy): CompiledPolicy {
  let c = compiled.get(policy);
  if (c === undefined) {
    const p = parseOptions(policySchema, policy, 'sanitizeHtml()', ['policy']);
    const attributes = new Map(Object.entries(p.attributes ?? {}).map(([tag, names]) => [tag, new Set(names)]));
    const custom = new Map(Object.entries(p.schemes ?? {}).map(([attr, list]) => [attr, new Set(list)]));
    const href = new Set(['http', 'https', 'mailto']);
    const other = new Set(['http', 'https']);
    c = {
      tags: new Set(p.tags),
      attributes,
      global: attributes.get('*') ?? new Set(),
      schemes: (attr) => custom.get(attr) ?? (attr === 'href' ? href : other),
      safeLinks: p.safeLinks,
    };
    compiled.set(policy, c);
  }
  return c;
}

/**
 * The scheme of a URL as a browser would read it (ASCII whitespace and controls removed first, as the URL parser
 * does), or `undefined` for a relative URL.
 */
function schemeOf(url: string): string | undefined {
  const cleaned = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(cleaned);
  if (match) return match[1]!.toLowerCase();
  // `//host/path` is relative to the scheme, which is the page's: allowed like any other relative URL.
  return undefined;
}

function isExternal(url: string): boolean {
  return /^(?:[a-z][a-z0-9+.-]*:)?\/\//i.test(url.trim());
}

function cleanElement(el: Element, policy: CompiledPolicy): void {
  const allowed = policy.attributes.get(el.tagName);
  const kept: Element['attrs'] = [];
  for (const attr of el.attrs) {
    const name = attr.name;
    if (attr.namespace !== undefined) continue; // xlink:href and friends
    if (!(allowed?.has(name) === true || policy.global.has(name))) continue;
    if (URL_ATTRIBUTES.has(name)) {
      const scheme = schemeOf(attr.value);
      if (scheme !== undefined && !policy.schemes(name).has(scheme)) continue;
    }
    kept.push({ name, value: attr.value });
  }
  if (policy.safeLinks && el.tagName === 'a') {
    const target = kept.find((a) => a.name === 'target');
    const href = kept.find((a) => a.name === 'href');
    if (target !== undefined || (href !== undefined && isExternal(href.value))) {
      const rel = kept.findIndex((a) => a.name === 'rel');
      if (rel >= 0) kept.splice(rel, 1);
      kept.push({ name: 'rel', value: 'noopener noreferrer' });
    }
  }
  el.attrs = kept;
}

/** Filters `parent`'s children in place: drops, unwraps or keeps each, then does the same for what it kept. */
function cleanChildren(parent: ParentNode, policy: CompiledPolicy, depth: number): boolean {
  let removed = false;
  const out: Node[] = [];
  // Children to judge, in reverse (the next one at the end): unwrapping pushes a node's children in its place.
  const pending = [...parent.childNodes].reverse();
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.nodeName === '#text') {
      out.push(node);
      continue;
    }
    if (!('tagName' in node)) continue; // comments, doctypes
    const el = node;
    if (DROP_WITH_CONTENT.has(el.tagName) || (el.namespaceURI as string) !== HTML_NS) {
      removed = true;
      continue;
    }
    if (depth >= MAX_DEPTH || !policy.tags.has(el.tagName)) {
      // Unwrap: its children take its place and are judged in turn.
      removed = true;
      for (let i = el.childNodes.length - 1; i >= 0; i--) pending.push(el.childNodes[i]!);
      continue;
    }
    cleanElement(el, policy);
    if (cleanChildren(el, policy, depth + 1)) removed = true;
    out.push(el);
  }
  for (const node of out) node.parentNode = parent;
  parent.childNodes = out;
  return removed;
}

/**
 * Sanitises HTML for an HTML body sink: parses it as a browser would (parse5, the WHATWG algorithm), keeps only the
 * policy's elements and attributes, drops scripts, styles, frames, templates, SVG and MathML with their content,
 * event handlers, and URLs with other schemes (`javascript:`, `data:`), and serialises the result. The output is
 * stable: sanitising it again, or parsing and serialising it again, gives it back unchanged (what defeats mutation
 * XSS). It is safe as the content of an element, not inside an attribute, a `<script>` or a URL: escape there.
 * Markup nested more than about a thousand elements deep (which no editor produces, and which an HTML parser takes
 * quadratic time over) comes back as its text, escaped.
 *
 * @example
 * ```ts
 * sanitizeHtml('<p onclick="x()">Hi <a href="javascript:alert(1)">there</a><script>steal()</script></p>', 'basic');
 * // '<p>Hi <a>there</a></p>'
 * ```
 */
export function sanitizeHtml(input: string, policy: HtmlPolicy | keyof typeof htmlPolicies = 'basic'): string {
  const compiledPolicy = compile(typeof policy === 'string' ? htmlPolicies[policy] : policy);
  const html = String(input);
  if (nestsTooDeep(html)) return asText(html);
  // A tree and its serialisation can parse differently: removing an element changes how its neighbours parse (an
  // <li> inside a removed <form> stays nested in the tree; without the form, the next parse closes it), and some
  // trees do not survive a round trip at all. So the output is sanitised again until a round changes nothing: what
  // is returned is exactly what parsing and sanitising it gives back. Already-canonical input takes one round.
  let current = html;
  for (let round = 0; round < 4; round++) {
    const fragment = parseFragment(current);
    const removed = cleanChildren(fragment, compiledPolicy, 0);
    const output = serialize(fragment);
    if (!removed && output === current) return output;
    current = output;
  }
  return asText(html);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for an HTML element's content or a quoted attribute value: `& < > " '`.
 *
 * @example
 * ```ts
 * `<p title="${escapeHtml(title)}">${escapeHtml(comment)}</p>`;
 * ```
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
