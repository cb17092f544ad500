import type { IncomingMessage } from 'node:http';
import type { RequestView } from './contract.js';
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
  abstract readonly route: string | undefined;
  abstract readonly frameworkIp: string;

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
