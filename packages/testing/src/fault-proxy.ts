import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** What a {@link FaultProxy} does to traffic now. */
export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'freeze' }
  | { readonly kind: 'refuse' };

/** A TCP proxy in front of a real dependency whose link a test breaks on purpose (toxiproxy's core, in process). */
export interface FaultProxy {
  /** The port to point the client at (on 127.0.0.1). */
  readonly port: number;
  /** The current mode. */
  readonly mode: ProxyMode;
  /** Connections open now. */
  readonly connections: number;
  /** Forwards bytes as they come (the default). Ends a freeze: held bytes go out in order. */
  pass(): void;
  /** Holds every chunk, both ways, `ms` before forwarding it (order kept). */
  delay(ms: number): void;
  /** Stops forwarding, both ways, keeping connections open: a dependency that froze (a paused process, a GC). */
  freeze(): void;
  /** Destroys every open connection with a TCP reset. New connections are still accepted. */
  reset(): void;
  /** Ends every open connection (FIN) and refuses new ones until `pass()`: a dependency that went away. */
  close(): void;
  /** Stops the proxy. */
  stop(): Promise<void>;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly held: { to: Socket; chunk: Buffer }[];
}

/**
 * Starts a fault proxy on a free loopback port forwarding to `port` on `host`: tests say "Redis froze for 2 s" or
 * "the database went away" without root, iptables or a container.
 *
 * @example
 * ```ts
 * const proxy = await faultProxy({ port: 6379 });
 * const redis = new Redis({ port: proxy.port });
 * proxy.freeze(); // commands now wait
 * setTimeout(() => proxy.pass(), 2_000);
 * ```
 */
export async function faultProxy(target: { port: number; host?: string }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  const links = new Set<Link>();
  let mode: ProxyMode = { kind: 'pass' };
  let lastDue = 0; // delayed chunks leave in arrival order

  const forward = (link: Link, to: Socket, chunk: Buffer) => {
    if (mode.kind === 'freeze') link.held.push({ to, chunk });
    else if (mode.kind === 'delay') {
      const due = Math.max(Date.now() + mode.ms, lastDue);
      lastDue = due;
      setTimeout(() => to.destroyed || to.write(chunk), due - Date.now());
    } else if (!to.destroyed) to.write(chunk);
  };
  const drop = (link: Link) => {
    link.client.destroy();
    link.upstream.destroy();
    links.delete(link);
  };

  const server = createServer((client) => {
    if (mode.kind === 'refuse') {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, host);
    const link: Link = { client, upstream, held: [] };
    links.add(link);
    client.on('data', (chunk: Buffer) => forward(link, upstream, chunk));
    upstream.on('data', (chunk: Buffer) => forward(link, client, chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', () => drop(link));
      socket.on('close', () => drop(link));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    get mode() {
      return mode;
    },
    get connections() {
      return links.size;
    },
    pass() {
      mode = { kind: 'pass' };
      for (const link of links) {
        for (const { to, chunk } of link.held.splice(0)) if (!to.destroyed) to.write(chunk);
      }
    },
    delay(ms) {
      if (!(ms >= 0)) throw new RangeError(`delay(ms) needs ms >= 0, got ${ms}`);
      mode = { kind: 'delay', ms };
    },
    freeze() {
      mode = { kind: 'freeze' };
    },
    reset() {
      for (const link of links) {
        link.client.resetAndDestroy();
        link.upstream.resetAndDestroy();
        links.delete(link);
      }
    },
    close() {
      mode = { kind: 'refuse' };
      for (const link of links) {
        link.client.end();
        link.upstream.end();
      }
    },
    stop() {
      mode = { kind: 'refuse' };
      for (const link of links) drop(link);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
