import { parseFragment, serialize, type DefaultTreeAdapterMap } from 'parse5';
import { parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';

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
  // Nesting that deep needs that many start tags (`<` and a letter): counting them is cheaper than the estimate.
  let starts = 0;
  for (let i = input.indexOf('<'); i !== -1 && starts <= MAX_NESTING; i = input.indexOf('<', i + 1)) {
    const c = input.charCodeAt(i + 1) | 0x20; // ASCII letters to lower case
    if (c >= 0x61 && c <= 0x7a) starts++;
  }
  if (starts <= MAX_NESTING) return false;
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

/** Filters `el`'s attributes in place; returns {@link LT_IN_ATTRIBUTE} if a kept value holds a `<`, else 0. */
function cleanElement(el: Element, policy: CompiledPolicy): number {
  const allowed = policy.attributes.get(el.tagName);
  const kept: Element['attrs'] = [];
  let found = 0;
  for (const attr of el.attrs) {
    const name = attr.name;
    if (attr.namespace !== undefined) continue; // xlink:href and friends
    if (!(allowed?.has(name) === true || policy.global.has(name))) continue;
    if (URL_ATTRIBUTES.has(name)) {
      const scheme = schemeOf(attr.value);
      if (scheme !== undefined && !policy.schemes(name).has(scheme)) continue;
    }
    if (attr.value.includes('<')) found = LT_IN_ATTRIBUTE;
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
  return found;
}

// What cleaning a tree did, as bits: removed an element; kept an attribute value holding a `<`.
const REMOVED = 1;
const LT_IN_ATTRIBUTE = 2;

/**
 * Filters `parent`'s children in place: drops, unwraps or keeps each, then does the same for what it kept. Returns
 * {@link REMOVED} and {@link LT_IN_ATTRIBUTE} bits.
 */
function cleanChildren(parent: ParentNode, policy: CompiledPolicy, depth: number): number {
  let done = 0;
  const nodes = parent.childNodes;
  // Children kept as they are cleaned in place; the first one that goes starts a new list from there.
  let i = 0;
  for (; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.nodeName === '#text') continue;
    if (!('tagName' in node) || !keeps(node, policy, depth)) break;
    done |= cleanElement(node, policy) | cleanChildren(node, policy, depth + 1);
  }
  if (i === nodes.length) return done;
  const out = nodes.slice(0, i);
  // Children to judge, in reverse (the next one at the end): unwrapping pushes a node's children in its place.
  const pending = nodes.slice(i).reverse();
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.nodeName === '#text') {
      out.push(node);
      continue;
    }
    if (!('tagName' in node)) continue; // comments, doctypes
    const el = node;
    if (DROP_WITH_CONTENT.has(el.tagName) || (el.namespaceURI as string) !== HTML_NS) {
      done |= REMOVED;
      continue;
    }
    if (!keeps(el, policy, depth)) {
      // Unwrap: its children take its place and are judged in turn.
      done |= REMOVED;
      for (let j = el.childNodes.length - 1; j >= 0; j--) pending.push(el.childNodes[j]!);
      continue;
    }
    done |= cleanElement(el, policy) | cleanChildren(el, policy, depth + 1);
    out.push(el);
  }
  for (const node of out) node.parentNode = parent;
  parent.childNodes = out;
  return done;
}

/** True when `el` stays (it may still lose attributes and children). */
function keeps(el: Element, policy: CompiledPolicy, depth: number): boolean {
  return (
    depth < MAX_DEPTH &&
    policy.tags.has(el.tagName) &&
    !DROP_WITH_CONTENT.has(el.tagName) &&
    (el.namespaceURI as string) === HTML_NS
  );
}

// When the tree a round produced is one the parser re-creates exactly from its serialisation, that round's output is
// final: no second parse is needed to prove it stable. These are the parser's rules that could change a tree written
// out with explicit start and end tags, for the elements whose rules are listed here; a tree with any other element
// (custom policies), or one that breaks a rule, is parsed again instead.
// Listed here, not taken from a policy: a tag added to a policy takes the rounds until its rules are added here.
const KNOWN = new Set(
  [
    'a abbr b blockquote br caption code dd del div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li',
    'mark ol p pre q s small span strong sub sup table tbody td tfoot th thead tr u ul',
  ]
    .join(' ')
    .split(' '),
);
const VOID = new Set(['br', 'hr', 'img']);
// Start tags that close an open <p> (in button scope: up to a table, cell or caption).
const CLOSES_P = new Set(
  'blockquote dd div dl dt figcaption figure h1 h2 h3 h4 h5 h6 hr li ol p pre table ul'.split(' '),
);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
// "Special" elements (other than div and p) stop the search of an open <li>, <dd> or <dt> that a new one closes.
const STOPS_LIST_ITEMS = new Set(
  'blockquote caption dd dl dt figcaption figure h1 h2 h3 h4 h5 h6 li ol pre table tbody td tfoot th thead tr ul'.split(
    ' ',
  ),
);
// Table parts are only kept where they are parsed: each under its own parent, in a table.
const PARENTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['caption', new Set(['table'])],
  ['thead', new Set(['table'])],
  ['tbody', new Set(['table'])],
  ['tfoot', new Set(['table'])],
  ['tr', new Set(['thead', 'tbody', 'tfoot'])],
  ['td', new Set(['tr'])],
  ['th', new Set(['tr'])],
]);
const TABLE_CONTEXT = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr']);
const ONLY_WHITESPACE = /^[\t\n\f ]*$/;
// Open elements that a child's start tag reacts to, as bits.
const IN_P = 1;
const IN_LI = 2;
const IN_DD = 4;
const IN_A = 8;

/**
 * True when parsing `parent`'s serialisation gives back exactly its children. Conservative: false may be wrong
 * (the caller then parses again), true may not. `tag`: the parent's tag name (`''` for a fragment); `open`: the
 * open elements (bits) its children's start tags react to.
 *
 * @internal Exported for its property test.
 */
export function reparsesAlike(parent: ParentNode, tag: string, open: number): boolean {
  const tableContext = TABLE_CONTEXT.has(tag);
  const nodes = parent.childNodes;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.nodeName === '#text') {
      const text = (node as DefaultTreeAdapterMap['textNode']).value;
      // A carriage return (from &#13;) is written raw and read back as a line feed; text in a table outside a cell is
      // moved before the table; the parser drops a line feed right after <pre>.
      if (text.includes('\r')) return false;
      if (tableContext && !ONLY_WHITESPACE.test(text)) return false;
      if (i === 0 && tag === 'pre' && text.startsWith('\n')) return false;
      continue;
    }
    if (!('tagName' in node)) return false;
    const name = node.tagName;
    if (!KNOWN.has(name)) return false;
    const parents = PARENTS.get(name);
    if (parents === undefined ? tableContext : !parents.has(tag)) return false;
    if ((open & IN_P) !== 0 && CLOSES_P.has(name)) return false;
    if (HEADINGS.has(name) && HEADINGS.has(tag)) return false;
    if (name === 'li' && (open & IN_LI) !== 0) return false;
    if ((name === 'dd' || name === 'dt') && (open & IN_DD) !== 0) return false;
    if (name === 'a' && (open & IN_A) !== 0) return false;
    for (const attr of node.attrs) if (attr.value.includes('\r')) return false;
    if (VOID.has(name) && node.childNodes.length > 0) return false; // not written out
    let inner = open;
    if (name === 'p') inner |= IN_P;
    // A table, cell or caption ends the scope in which a start tag looks for an open <p>; a cell or caption also
    // starts a new list of formatting elements, in which an <a> does not see one outside.
    if (name === 'table' || name === 'td' || name === 'th' || name === 'caption') inner &= ~IN_P;
    if (name === 'td' || name === 'th' || name === 'caption') inner &= ~IN_A;
    if (name === 'li') inner = (inner & ~IN_DD) | IN_LI;
    else if (name === 'dd' || name === 'dt') inner = (inner & ~IN_LI) | IN_DD;
    else if (STOPS_LIST_ITEMS.has(name)) inner &= ~(IN_LI | IN_DD);
    if (name === 'a') inner |= IN_A;
    if (!reparsesAlike(node, name, inner)) return false;
  }
  return true;
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
  // is returned is exactly what parsing and sanitising it gives back. Input that is already canonical, or whose
  // cleaned tree the parser is known to re-create from its serialisation, takes one round.
  let current = html;
  for (let round = 0; round < 4; round++) {
    const fragment = parseFragment(current);
    const done = cleanChildren(fragment, compiledPolicy, 0);
    const output = serialize(fragment);
    if (((done & REMOVED) === 0 && output === current) || reparsesAlike(fragment, '', 0)) {
      // The nesting estimate also counts tags written inside attribute values (the serialiser leaves `<` there as
      // it is): output it would take for deep markup must come back as text now, or sanitising it again would.
      return (done & LT_IN_ATTRIBUTE) !== 0 && nestsTooDeep(output) ? asText(html) : output;
    }
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
