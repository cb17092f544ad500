/**
 * IP address parsing and formatting, written out here so `@bulwark/http` has no dependency for it and the
 * per-request paths stay allocation-light. Addresses are compared as bytes, never as strings, so every spelling
 * of an address (`::ffff:1.2.3.4`, `::FFFF:0102:0304`, `[::1]:80`) means one thing.
 */

/** A parsed address: 4 bytes for IPv4, 16 for IPv6. */
export interface ParsedIp {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

function parseIPv4Into(s: string, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a virtual '.' ends the last part
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero: octal in some parsers, so ambiguous
      value = value * 10 + (c - 48);
      if (value > 255 || ++digits > 3) return false;
    } else return false;
  }
  return part === 4;
}

function parseHexGroup(s: string): number {
  if (s.length === 0 || s.length > 4) return -1;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    value = value * 16 + d;
  }
  return value;
}

function parseIPv6(input: string): Uint8Array | undefined {
  const zone = input.indexOf('%');
  const s = zone === -1 ? input : input.slice(0, zone);
  const bytes = new Uint8Array(16);
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return undefined;
  const head = gap === -1 ? s : s.slice(0, gap);
  const tail = gap === -1 ? '' : s.slice(gap + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 address takes the last two groups.
  const groups: number[] = [];
  const all = [...headGroups, ...tailGroups];
  const last = all[all.length - 1];
  const embedsV4 = last !== undefined && last.includes('.');
  const v4 = new Uint8Array(4);
  if (embedsV4 && gap !== -1 && tail === '') return undefined; // 'a.b.c.d::' — the IPv4 part must come last
  if (embedsV4 && !parseIPv4Into(last, v4, 0)) return undefined;
  const hexCount = all.length - (embedsV4 ? 1 : 0);
  const total = hexCount + (embedsV4 ? 2 : 0);
  if (gap === -1 ? total !== 8 : total > 7) return undefined;
  for (let i = 0; i < hexCount; i++) {
    const g = parseHexGroup(all[i]!);
    if (g < 0) return undefined;
    groups.push(g);
  }
  const headHex = embedsV4 && tailGroups.length === 0 ? headGroups.length - 1 : headGroups.length;
  let at = 0;
  for (let i = 0; i < headHex; i++, at += 2) {
    bytes[at] = groups[i]! >> 8;
    bytes[at + 1] = groups[i]! & 0xff;
  }
  const tailHex = hexCount - headHex;
  at = 16 - (embedsV4 ? 4 : 0) - tailHex * 2;
  for (let i = 0; i < tailHex; i++, at += 2) {
    bytes[at] = groups[headHex + i]! >> 8;
    bytes[at + 1] = groups[headHex + i]! & 0xff;
  }
  if (embedsV4) bytes.set(v4, 12);
  return bytes;
}

/**
 * Parses an address as written in headers or by sockets: IPv4, IPv6 (with `::`, an embedded IPv4 tail or a zone),
 * bracketed `[v6]` or `[v6]:port`, or `v4:port`. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in any spelling) comes back
 * as IPv4. Returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * parseIp('::ffff:192.0.2.1'); // { version: 4, bytes: [192, 0, 2, 1] }
 * parseIp('[2001:db8::1]:443'); // { version: 6, ... }
 * ```
 */
export function parseIp(input: string): ParsedIp | undefined {
  let s = input.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return undefined;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    s = s.slice(1, end);
  } else if (s.includes('.') && s.indexOf(':') !== -1 && s.indexOf(':') === s.lastIndexOf(':')) {
    s = s.slice(0, s.indexOf(':')); // v4:port
  }
  if (!s.includes(':')) {
    const bytes = new Uint8Array(4);
    return parseIPv4Into(s, bytes, 0) ? { version: 4, bytes } : undefined;
  }
  const bytes = parseIPv6(s);
  if (bytes === undefined) return undefined;
  if (isV4Mapped(bytes)) return { version: 4, bytes: bytes.slice(12) };
  return { version: 6, bytes };
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Formats a parsed address canonically: dotted IPv4, or RFC 5952 IPv6 (lowercase, no leading zeros, the longest
 * run of two or more zero groups as `::`).
 */
export function formatIp(ip: ParsedIp): string {
  const b = ip.bytes;
  if (ip.version === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Canonical text of an address, or `undefined` if it is not one. IPv4-mapped IPv6 becomes IPv4.
 *
 * @example
 * ```ts
 * normalizeIp('::FFFF:0A00:0001'); // '10.0.0.1'
 * normalizeIp('2001:DB8:0:0::1');  // '2001:db8::1'
 * ```
 */
export function normalizeIp(input: string): string | undefined {
  const parsed = parseIp(input);
  return parsed === undefined ? undefined : formatIp(parsed);
}

/**
 * The text of a socket's peer address, normalized. Node already writes socket addresses canonically, so only the
 * IPv4-mapped form of dual-stack sockets needs work; that case is handled without parsing.
 */
export function socketAddress(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return address;
}

/** Options for {@link ipKey}. */
export interface IpKeyOptions {
  /** Prefix length IPv6 addresses are masked to (1–128). Default 64: one key per customer subnet. */
  ipv6Prefix?: number;
}

/**
 * A rate-limiting key for an address: IPv4 as is, IPv6 masked to its /64 (configurable), because a single client
 * usually owns a whole /64 and could otherwise rotate through 2^64 keys. IPv4-mapped IPv6 counts as IPv4.
 *
 * @example
 * ```ts
 * ipKey('2001:db8:1:2:aaaa::1');                     // '2001:db8:1:2::/64'
 * ipKey('2001:db8:1:2:aaaa::1', { ipv6Prefix: 48 }); // '2001:db8:1::/48'
 * ipKey('::ffff:192.0.2.7');                         // '192.0.2.7'
 * ```
 */
export function ipKey(ip: string, options?: IpKeyOptions): string {
  if (!ip.includes(':')) return ip;
  const prefix = options?.ipv6Prefix ?? 64;
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 128) {
    throw new RangeError(`ipKey(): ipv6Prefix must be an integer from 1 to 128, got ${prefix}`);
  }
  const parsed = parseIp(ip);
  if (parsed === undefined) return ip;
  if (parsed.version === 4) return formatIp(parsed);
  const bytes = maskBytes(parsed.bytes, prefix);
  return `${formatIp({ version: 6, bytes })}/${prefix}`;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** A parsed CIDR range. */
export interface Cidr {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * Parses `addr/prefix` (or a bare address, meaning one host). Returns `undefined` if malformed.
 *
 * @example
 * ```ts
 * cidrContains(parseCidr('10.0.0.0/8')!, parseIp('10.1.2.3')!); // true
 * ```
 */
export function parseCidr(input: string): Cidr | undefined {
  const slash = input.indexOf('/');
  const ip = parseIp(slash === -1 ? input : input.slice(0, slash));
  if (ip === undefined) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const text = input.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(text)) return undefined;
    prefix = Number(text);
    // An IPv4-mapped range written in IPv6 (::ffff:10.0.0.0/104) is an IPv4 range.
    if (ip.version === 4 && input.includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > max) return undefined;
  }
  return { version: ip.version, bytes: maskBytes(ip.bytes, prefix), prefix };
}

/** True when `ip` lies in `range`. */
export function cidrContains(range: Cidr, ip: ParsedIp): boolean {
  if (range.version !== ip.version) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (range.bytes[i] !== ip.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[full]! & mask) === range.bytes[full];
}
