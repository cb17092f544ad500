import { z } from 'zod';
import { BulwarkConfigError } from '@bulwark/core';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import { cidrContains, parseCidr, parseIp, formatIp, type Cidr, type ParsedIp } from './ip.js';
import type { RequestView } from './contract.js';

/**
 * Which proxies in front of the app may be believed about the client's address.
 * - `false` (default): none; the socket's peer is the client.
 * - a number `n`: the `n` hops nearest the app are proxies (`1` = one load balancer).
 * - CIDR ranges or addresses (and the presets `'loopback'`, `'linklocal'`, `'uniquelocal'`): hops from these
 *   addresses are proxies.
 * - a function `(address, hop) => boolean`: `hop` 0 is the socket peer, 1 the next address to its left, and so on.
 */
export type TrustProxy = false | number | readonly string[] | ((address: string, hop: number) => boolean);

/** Options for {@link clientIp} and {@link clientIpResolver}. */
export interface ClientIpOptions {
  /** Default `false`: take the socket address and ignore forwarding headers (they are client-controlled). */
  trustProxy?: TrustProxy;
  /** Which header trusted proxies append to: default `'x-forwarded-for'`; or RFC 7239 `'forwarded'`. */
  header?: 'x-forwarded-for' | 'forwarded';
}

const presets: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

type Trust = (address: ParsedIp, text: string, hop: number) => boolean;

const optionsSchema = z
  .object({
    trustProxy: z
      .union(
        [
          z.literal(false),
          z.number().int().min(0),
          z.array(z.string()),
          functionSchema<(address: string, hop: number) => boolean>(),
        ],
        { message: 'expected false, a whole hop count >= 0, a list of CIDR ranges or presets, or a function' },
      )
      .default(false),
    // Header names are case-insensitive: `X-Forwarded-For` is the same header.
    header: z
      .string()
      .toLowerCase()
      .pipe(z.enum(['x-forwarded-for', 'forwarded']))
      .default('x-forwarded-for'),
  })
  .strict();

/** The trust test for a parsed `trustProxy`, or the hop count; CIDR ranges and presets are parsed here, once. */
function compileTrust(trustProxy: z.output<typeof optionsSchema>['trustProxy']): Trust | number {
  if (typeof trustProxy === 'number') return trustProxy;
  if (typeof trustProxy === 'function') return (_ip, text, hop) => trustProxy(text, hop);
  if (trustProxy === false) return () => false;
  const ranges: Cidr[] = [];
  trustProxy.forEach((entry, i) => {
    for (const text of presets[entry] ?? [entry]) {
      const range = parseCidr(text);
      if (range === undefined) {
        throw new BulwarkConfigError('clientIp()', [
          { field: `trustProxy.${i}`, message: `not an address, CIDR range or preset: ${JSON.stringify(entry)}` },
        ]);
      }
      ranges.push(range);
    }
  });
  return (ip) => ranges.some((r) => cidrContains(r, ip));
}

/** Yields forwarded addresses right to left (nearest hop first) without splitting the whole header. */
function* hopsFromRight(value: string, header: 'x-forwarded-for' | 'forwarded'): Generator<string> {
  let end = value.length;
  while (end > 0) {
    const comma = value.lastIndexOf(',', end - 1);
    const element = value.slice(comma + 1, end).trim();
    end = comma === -1 ? 0 : comma;
    if (element === '') continue;
    yield header === 'forwarded' ? forwardedFor(element) : element;
  }
}

/** The `for=` value of one RFC 7239 `Forwarded` element, unquoted; '' if absent. */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === 'for') {
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
      return v;
    }
  }
  return '';
}

/** The request fields client-IP resolution reads (`frameworkIp` only for `'framework'`; `ip` stands in without it). */
export type ClientIpSource = Pick<RequestView, 'ip' | 'header'> & { readonly frameworkIp?: string };

/**
 * Compiles client-IP options once (CIDR parsing, presets) and returns a fast per-request resolver.
 *
 * The chain of addresses is the forwarding header's entries followed by the socket peer. Starting from the socket
 * and moving left, every trusted proxy is skipped; the first untrusted address is the client. A malformed entry
 * stops the walk and the last good address is used, so a garbage header can never become the key.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for a malformed `trustProxy`.
 *
 * @example
 * ```ts
 * const ipOf = clientIpResolver({ trustProxy: ['10.0.0.0/8'] });
 * ipOf(req); // behind a 10.x load balancer: the address it saw
 * ```
 */
export function clientIpResolver(options: ClientIpOptions | 'framework' = {}): (req: ClientIpSource) => string {
  if (options === 'framework') return (req) => req.frameworkIp ?? req.ip;
  const o = parseOptions(optionsSchema, options, 'clientIp()');
  const trust = compileTrust(o.trustProxy);
  const header = o.header;
  if (trust === 0 || o.trustProxy === false) return (req) => req.ip;

  return (req) => {
    const socket = req.ip;
    const forwarded = req.header(header);
    if (forwarded === undefined || socket === '') return socket;
    let client = socket;
    let hop = 0;
    if (typeof trust === 'number') {
      for (const text of hopsFromRight(forwarded, header)) {
        if (++hop > trust) break;
        const ip = parseIp(text);
        if (ip === undefined) break;
        client = formatIp(ip);
      }
      return client;
    }
    const socketIp = parseIp(socket);
    if (socketIp === undefined || !trust(socketIp, socket, 0)) return socket;
    for (const text of hopsFromRight(forwarded, header)) {
      const ip = parseIp(text);
      if (ip === undefined) break;
      client = formatIp(ip);
      if (!trust(ip, client, ++hop)) break;
    }
    return client;
  };
}

/**
 * The client's address for a request: the socket peer by default; forwarding headers only through trusted proxies.
 * Compile once with {@link clientIpResolver} on hot paths.
 *
 * @example
 * ```ts
 * clientIp(req);                            // socket address, headers ignored
 * clientIp(req, { trustProxy: 1 });         // behind one proxy: the address it appended
 * clientIp(req, { trustProxy: ['loopback', '10.0.0.0/8'], header: 'forwarded' });
 * clientIp(req, 'framework');               // what Express `trust proxy` / Fastify `trustProxy` / Koa `app.proxy` say
 * ```
 */
export function clientIp(req: ClientIpSource, options?: ClientIpOptions | 'framework'): string {
  if (
    options === undefined ||
    (options !== 'framework' && (options.trustProxy === undefined || options.trustProxy === false))
  ) {
    return req.ip;
  }
  return clientIpResolver(options)(req);
}
