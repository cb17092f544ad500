import type { AuditRecord } from './audit-record.js';
import type { AuditSink } from './audit-sink.js';

/** A sink that keeps lines in memory, for tests; {@link MemorySink.records} reads them back. */
export interface MemorySink extends AuditSink {
  /** Every line stored, oldest first (the exact text the hash tree covers). */
  readonly stored: readonly string[];
  /** The stored records, parsed. */
  records(): AuditRecord[];
}

/**
 * An in-memory sink for tests. Give it `lines` to start from (a log "restarted" over them).
 *
 * @example
 * ```ts
 * const sink = memorySink();
 * const audit = createAuditLog({ app: 'test', sink });
 * audit.record({ event: 'authn_login_fail', args: ['bob'] });
 * expect(sink.records()[0]!.event).toBe('authn_login_fail:bob');
 * ```
 */
export function memorySink(options: { lines?: readonly string[] } = {}): MemorySink {
  const stored: string[] = [...(options.lines ?? [])];
  return {
    name: 'memory',
    exact: true,
    full: false,
    queued: 0,
    stored,
    open: () => [...stored],
    write: (line) => void stored.push(line),
    flush: () => Promise.resolve(),
    flushSync: () => {},
    close: () => Promise.resolve(),
    lines: () => [...stored],
    records: () => stored.map((line) => JSON.parse(line) as AuditRecord),
  };
}
