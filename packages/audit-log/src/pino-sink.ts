import type { AuditRecord } from './audit-record.js';
import type { AuditSink } from './audit-sink.js';
import type { AuditLevel } from './vocabulary.js';

/** The part of a pino logger {@link pinoSink} uses. */
export interface PinoLike {
  /** Writes an INFO record. */
  info(object: object, message?: string): void;
  /** Writes a WARN record. */
  warn(object: object, message?: string): void;
  /** Writes a CRITICAL record. */
  error(object: object, message?: string): void;
  /** Flushes buffered output (pino's asynchronous destinations); called on `close()`. */
  flush?(): void;
}

const methods: Record<AuditLevel, 'info' | 'warn' | 'error'> = { INFO: 'info', WARN: 'warn', CRITICAL: 'error' };

/**
 * Forwards records to a pino logger (INFO → info, WARN → warn, CRITICAL → error), under `key` so pino's own
 * `level` and `time` do not collide with the record's. pino re-serialises what it writes, so this sink carries no
 * tamper evidence (`exact: false`): use it to feed an existing log pipeline, beside a {@link fileSink} that keeps the
 * evidence. For audit, give pino a synchronous destination (`pino.destination({ sync: true })`): a worker transport
 * loses what is queued when the process exits.
 *
 * @example
 * ```ts
 * const audit = createAuditLog({ app: 'orders', sink: pinoSink(pino(pino.destination({ dest: 'audit.log', sync: true }))) });
 * ```
 */
export function pinoSink(logger: PinoLike, options: { key?: string } = {}): AuditSink {
  const key = options.key ?? 'audit';
  return {
    name: 'pino',
    exact: false,
    full: false,
    queued: 0,
    open: () => undefined,
    write: (_line: string, record: AuditRecord) => logger[methods[record.level]]({ [key]: record }, record.event),
    // No callback: pino's `flush(cb)` can wait forever on an idle event loop (pinojs/pino#2481); a synchronous
    // destination has written everything already, and an asynchronous one is asked to write now.
    flush: () => {
      logger.flush?.();
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}
