/**
 * The logger `instrument()` writes to: a pino logger fits, as does anything with these four methods taking
 * structured fields first and a message second.
 */
export interface TelemetryLogger {
  /** A debug line. */
  debug(fields: object, message: string): void;
  /** An info line. */
  info(fields: object, message: string): void;
  /** A warning line. */
  warn(fields: object, message: string): void;
  /** An error line. */
  error(fields: object, message: string): void;
}
