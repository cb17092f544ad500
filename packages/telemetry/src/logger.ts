/**
 * The logger `instrument()` writes to: a pino logger fits, as does anything with these four methods taking
 * structured fields first and a message second.
 */
export interface TelemetryLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
