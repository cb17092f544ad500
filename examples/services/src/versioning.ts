import { createVersioning, uriVersion, versionChange, type Versioning } from '@bulwark/api-versioning';

/**
 * `/v1/...` and `/v2/...`: handlers are written for v2; v1 callers send and receive `name` where v2 says
 * `title`, and see Deprecation and Sunset headers.
 */
export function createApiVersioning(): Versioning {
  return createVersioning({
    versions: [{ version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2099-01-01' }, { version: '2' }],
    extract: [uriVersion()],
    defaultVersion: 'latest',
    changes: [
      versionChange({
        version: '2',
        description: 'notes: name is now title',
        request: ({ body }) => ({ body: rename(body, 'name', 'title') }),
        response: (body) => rename(body, 'title', 'name'),
      }),
    ],
  });
}

function rename(value: unknown, from: string, to: string): unknown {
  if (typeof value !== 'object' || value === null || !(from in value)) return value;
  const { [from]: moved, ...rest } = value as Record<string, unknown>;
  return { ...rest, [to]: moved };
}
