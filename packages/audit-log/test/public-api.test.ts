import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/audit-log and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/audit-log')).sort()).toMatchInlineSnapshot(`
    [
      "AuditLog",
      "EMPTY_ROOT",
      "MerkleAccumulator",
      "REDACTED",
      "auditEventSchema",
      "auditEvents",
      "auditGuard",
      "checkpointFile",
      "checkpointSigner",
      "checkpointVerifier",
      "consistencyProof",
      "createAuditLog",
      "defaultLevel",
      "fileLogLines",
      "fileSink",
      "inclusionProof",
      "leafHash",
      "memoryCheckpoints",
      "memorySink",
      "nodeHash",
      "owaspEvents",
      "pinoSink",
      "postgresLines",
      "postgresMigration",
      "postgresSink",
      "proveRecord",
      "refusalEvent",
      "rootFromInclusionProof",
      "treeRoot",
      "verifyCheckpoint",
      "verifyConsistency",
      "verifyInclusion",
      "verifyLog",
      "verifyNote",
      "verifyRecordProof",
    ]
  `);
  expect(Object.keys(await import('@bulwark/audit-log/express')).sort()).toMatchInlineSnapshot(`
    [
      "auditRequests",
    ]
  `);
  expect(Object.keys(await import('@bulwark/audit-log/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "auditRequests",
    ]
  `);
  expect(Object.keys(await import('@bulwark/audit-log/koa')).sort()).toMatchInlineSnapshot(`
    [
      "auditRequests",
    ]
  `);
});
