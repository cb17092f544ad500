import { bulwarkChannel } from '@bulwark/core/internal';
import type { Reply, RequestView } from './contract.js';

/** Published on `bulwark:http:refusal` when any guard answers a request itself (429, 503, 410, 400...). */
export interface RefusalEvent {
  /** The refused request, as the guard saw it. */
  readonly request: RequestView;
  /** The reply the guard sent: its status, headers and (problem) body. */
  readonly reply: Reply;
}

/**
 * The channel every adapter publishes refusals on, so one subscriber (the audit log's middleware, a metrics
 * exporter) sees the refusals of every Bulwark guard without the guards knowing of it. Nothing is built unless
 * someone subscribes.
 *
 * @example
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('bulwark:http:refusal', (e) => console.log((e as RefusalEvent).reply.status));
 * ```
 */
export const refusalChannel = bulwarkChannel<RefusalEvent>('http', 'refusal');

/** Publishes one refusal when someone listens. */
export function publishRefusal(request: RequestView, reply: Reply): void {
  if (refusalChannel.hasSubscribers) refusalChannel.publish({ request, reply });
}
