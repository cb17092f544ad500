// ---- The log ----
export {
  AuditLog,
  createAuditLog,
  type AuditCheckpointEvent,
  type AuditDropEvent,
  type AuditErrorEvent,
  type AuditLogOptions,
  type AuditStats,
} from './audit-log.js';
export { auditEventSchema, type AuditEvent, type AuditRecord } from './audit-record.js';
export {
  auditEvents,
  defaultLevel,
  owaspEvents,
  type AuditEventType,
  type AuditLevel,
  type OwaspEvent,
} from './vocabulary.js';
export { REDACTED, type RedactOptions } from './redactor.js';
export type { AuditQuery } from './query.js';

// ---- Sinks ----
export type { AuditSink, SinkHost } from './audit-sink.js';
export { fileLogLines, fileSink, type FileSinkOptions } from './file-sink.js';
export {
  postgresLines,
  postgresMigration,
  postgresSink,
  type PgQueryable,
  type PostgresSinkOptions,
} from './postgres-sink.js';
export { pinoSink, type PinoLike } from './pino-sink.js';
export { memorySink, type MemorySink } from './memory-sink.js';
export type { StoredLine } from './line-reader.js';

// ---- Tamper evidence ----
export {
  checkpointSigner,
  checkpointVerifier,
  verifyCheckpoint,
  verifyNote,
  type Checkpoint,
  type CheckpointSigner,
  type CheckpointVerifier,
  type SignedCheckpoint,
} from './checkpoint.js';
export { checkpointFile, memoryCheckpoints, type CheckpointStore } from './checkpoint-store.js';
export { verifyLog, type VerifyInput, type VerifyProblem, type VerifyResult } from './verify-log.js';
export { proveRecord, verifyRecordProof, type RecordProof } from './record-proof.js';
export {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  nodeHash,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

// ---- HTTP (framework adapters at ./express, ./fastify, ./koa) ----
export { auditGuard, refusalEvent, type AuditRequestsOptions } from './audit-guard.js';
