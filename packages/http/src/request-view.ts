import type { IncomingMessage } from 'node:http';
import type { QueryValues, RequestView } from './contract.js';
import { socketAddress } from './ip.js';

/**
 * The shared part of every adapter's {@link RequestView}: method, headers and socket address come from Node's
 * `IncomingMessage`, which all three frameworks expose. Subclasses say how their framework spells path and URL.
 */
export abstract class NodeRequestView implements RequestView {
  readonly raw: unknown;
  protected readonly req: IncomingMessage;
  #ip: string | undefined = undefined;

  constructor(raw: unknown, req: IncomingMessage) {
    this.raw = raw;
    this.req = req;
  }

  abstract readonly path: string;
  abstract readonly url: string;
  abstract readonly originalUrl: string;
  abstract state(key: string): unknown;
  abstract readonly route: string | undefined;
  abstract readonly frameworkIp: string;
  abstract readonly params: Readonly<Record<string, string>> | undefined;
  abstract readonly body: unknown;
  #query: QueryValues | undefined = undefined;

  get query(): QueryValues {
    return (this.#query ??= parseQuery(this.url));
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return typeof value === 'string' || value === undefined ? value : value.join(', ');
  }

  get ip(): string {
    return (this.#ip ??= socketAddress(this.req.socket?.remoteAddress));
  }
}

/** The path part of a URL (everything before `?`). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** True when a guard or handler answered asynchronously. */
export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

const NO_QUERY: QueryValues = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * The query parameters of a URL: percent-decoded by `URLSearchParams` (which never throws: a malformed escape is
 * kept as written), a repeated key as an array, in an object without a prototype (`__proto__` is just a key).
 */
export function parseQuery(url: string): QueryValues {
  const q = url.indexOf('?');
  if (q === -1 || q === url.length - 1) return NO_QUERY;
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
    const seen = out[key];
    if (seen === undefined) out[key] = value;
    else if (typeof seen === 'string') out[key] = [seen, value];
    else seen.push(value);
  }
  return out;
}

/** A plain `node:http` request, with no framework: no route, no parameters, no parsed body. */
export class PlainRequestView extends NodeRequestView {
  get url(): string {
    return this.req.url ?? '/';
  }
  get originalUrl(): string {
    return this.url;
  }
  get path(): string {
    return pathOf(this.url);
  }
  get route(): string | undefined {
    return undefined;
  }
  state(): unknown {
    return undefined;
  }
  get frameworkIp(): string {
    return this.ip;
  }
  get params(): undefined {
    return undefined;
  }
  get body(): undefined {
    return undefined;
  }
}
