import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { OutcomeHeaders, Reply } from './contract.js';

/** A reply's body as bytes-to-send, with the content type it implies. */
export interface SerializedBody {
  readonly payload: string | undefined;
  /** Content type to set if the reply's headers do not set one. */
  readonly contentType: string | undefined;
}

const NO_BODY: SerializedBody = { payload: undefined, contentType: undefined };

/** True when a reply body is a Node stream, sent as it is (by shape: a stream from another realm counts too). */
export function isStream(body: unknown): body is Readable {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Readable).pipe === 'function' &&
    typeof (body as Readable).on === 'function'
  );
}

/** Turns a reply body into text: strings as `text/plain`, everything else (streams excepted) as JSON. */
export function serializeBody(body: unknown): SerializedBody {
  if (body === undefined) return NO_BODY;
  if (typeof body === 'string') return { payload: body, contentType: 'text/plain; charset=utf-8' };
  return { payload: JSON.stringify(body), contentType: 'application/json; charset=utf-8' };
}

/** True when the headers set a content type (any case). */
export function hasContentType(headers: OutcomeHeaders | undefined): boolean {
  if (headers === undefined) return false;
  for (const name in headers) if (name.toLowerCase() === 'content-type') return true;
  return false;
}

/** The header value as Node's `setHeader` takes it. */
export function headerValue(value: string | number | readonly string[]): string | string[] {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : [...value];
}

/** A minimal view of Node's `ServerResponse`, the one object every framework exposes. */
export interface RawResponse {
  statusCode: number;
  readonly writableFinished: boolean;
  /** True once the response emitted `close` (Node >= 18). */
  readonly closed?: boolean;
  setHeader(name: string, value: string | string[]): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** Sets every header of an outcome on a raw response. */
export function setHeaders(res: RawResponse, headers: OutcomeHeaders | undefined): void {
  if (headers === undefined) return;
  for (const name in headers) res.setHeader(name, headerValue(headers[name]!));
}

/**
 * Runs `after` once, when the raw response closes: after it finished, or when the client went away first.
 * Node emits `close` on every response in both cases, so this one listener serves every framework. An async guard
 * can settle after the response already closed (the client left while it worked): then `after` runs at once.
 */
export function runAfter(res: RawResponse, after: (status: number, aborted: boolean) => void): void {
  if (res.closed === true) after(res.statusCode, !res.writableFinished);
  else res.once('close', () => after(res.statusCode, !res.writableFinished));
}

/**
 * Streams a body on a response whose status and headers are set: the head goes out at once (an event stream may say
 * nothing for a while), and the stream is destroyed if the response closes first (the client went away). That is
 * the expected end of a stream nobody reads any more, not an error to report.
 */
export function writeStream(res: ServerResponse, body: Readable): void {
  res.flushHeaders();
  // Not pipeline(): it would destroy the response with an error when the stream ends early (a source dropping a
  // client that stopped reading), which Koa reports as an application error. Both ends are closed without one.
  body.pipe(res);
  body.on('error', () => {}); // followed by 'close'
  body.once('close', () => {
    if (!body.readableEnded) res.destroy();
  });
  res.once('close', () => body.destroy());
}

/**
 * Writes a {@link Reply} on a Node `ServerResponse`: status, headers, and the body serialised (a string as text, any
 * other value as JSON) with its length, or streamed. Node leaves the body out of a HEAD response.
 */
export function writeReply(res: ServerResponse, reply: Reply): void {
  if (isStream(reply.body)) {
    res.statusCode = reply.status;
    setHeaders(res, reply.headers);
    writeStream(res, reply.body);
    return;
  }
  const { payload, contentType } = serializeBody(reply.body);
  res.statusCode = reply.status;
  setHeaders(res, reply.headers);
  if (payload === undefined) {
    res.end();
    return;
  }
  if (contentType !== undefined && !hasContentType(reply.headers)) res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}
