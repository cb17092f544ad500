import { z } from 'zod';
import { methodsSchema, parseOptions } from '@bulwark/core/internal';
import type { FlagDocumentInput } from './flag-definition.js';
import type { FlagSource } from './flag-source.js';

/** The ioredis (or compatible) client methods the Redis source uses. */
export interface RedisSourceClient {
  /** Reads the document. */
  get(key: string): Promise<string | null>;
  /** Writes the document. */
  set(key: string, value: string): Promise<unknown>;
  /** Announces a new version to every process. */
  publish(channel: string, message: string): Promise<unknown>;
  /** A second connection for the subscription (ioredis' `duplicate()`). */
  duplicate(): RedisSubscriber;
}

/** The subscribing connection's methods. */
export interface RedisSubscriber {
  /** Subscribes to the announcements. */
  subscribe(channel: string): Promise<unknown>;
  /** An announcement arrived. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** The connection is ready (again, after a reconnect: the source reloads then). */
  on(event: 'ready', listener: () => void): unknown;
  /** The connection failed. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Closes the subscribing connection. */
  quit(): Promise<unknown>;
}

const optionsSchema = z
  .object({
    /** Pub/sub channel announcing a new version; `<key>:changed` unless set. */
    channel: z.string().min(1).optional(),
  })
  .strict();

/** Options of {@link redisSource}. */
export type RedisSourceOptions = z.input<typeof optionsSchema>;

/**
 * A flag document stored as JSON under one Redis key, for a fleet: `flags.set()` writes it (SET) and announces it
 * (PUBLISH), and every process subscribed reloads it. A subscriber that reconnects reloads too, so a change
 * published while it was away is not missed. A missing key is an empty document, so the first `set()` can create it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const flags = featureFlags({ source: redisSource(new Redis(), 'myapp:flags') });
 * await flags.ready();
 * await flags.set('new-checkout', { rules: [{ rollout: { percentage: 5 } }] }); // every process sees it
 * ```
 */
export function redisSource(client: RedisSourceClient, key: string, options?: RedisSourceOptions): FlagSource {
  parseOptions(
    z.object({
      client: methodsSchema<RedisSourceClient>(['get', 'set', 'publish', 'duplicate'], 'expected an ioredis client'),
      key: z.string().min(1),
    }),
    { client, key },
    'redisSource()',
  );
  const opts = parseOptions(optionsSchema, options ?? {}, 'redisSource()');
  const channel = opts.channel ?? `${key}:changed`;
  let subscriber: RedisSubscriber | undefined;

  const load = async (): Promise<unknown> => {
    const text = await client.get(key);
    if (text === null) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new Error(`redis key ${key}: not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  };

  return {
    load,
    watch(onUpdate, onError) {
      const sub = client.duplicate();
      subscriber = sub;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      const reload = () => {
        clearTimeout(retry);
        load().then(onUpdate, (error: Error) => {
          onError(error);
          // The main connection may still be reconnecting: try again until a load succeeds.
          if (!stopped) retry = setTimeout(reload, 500).unref();
        });
      };
      sub.on('message', (from) => {
        if (from === channel) reload();
      });
      sub.on('error', onError);
      let connectedOnce = false;
      sub.on('ready', () => {
        // ioredis resubscribes on reconnect; what changed while disconnected is only caught by reading again.
        if (connectedOnce) reload();
        connectedOnce = true;
      });
      // A version written between the first load and this subscription would otherwise go unnoticed.
      sub.subscribe(channel).then(reload, onError);
      return () => {
        stopped = true;
        clearTimeout(retry);
        void sub.quit().catch(() => undefined);
      };
    },
    async save(document: FlagDocumentInput) {
      await client.set(key, JSON.stringify(document));
      await client.publish(channel, String(Date.now()));
    },
    async close() {
      await subscriber?.quit().catch(() => undefined);
      subscriber = undefined;
    },
  };
}
