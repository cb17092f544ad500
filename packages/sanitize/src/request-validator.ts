import { parseOptions } from '@bulwark/core/internal';
import { problemReply, type Guard, type NextOutcome, type RespondOutcome, type RequestView } from '@bulwark/http';
import { z } from 'zod';

/** What the validator needs of a schema: zod's `safeParse` (any zod version, or anything shaped like it). */
export interface RequestSchema<T = unknown> {
  /** zod's `safeParse`: the parsed value, or the issues. */
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/** Options of {@link requestValidator} (and `validateRequest` in each framework subpath). */
export interface RequestValidatorOptions {
  /** The parsed JSON body (use a strict object: unknown keys are then refused). Requests with a body must be JSON. */
  body?: RequestSchema;
  /** The query, as the kernel parses it: values are strings, or arrays of strings for repeated keys. */
  query?: RequestSchema;
  /** Route parameters (strings). Express: mount at the route (`app.post('/u/:id', validateRequest(...), ...)`). */
  params?: RequestSchema;
  /** Request headers, lower-case names (a non-strict object: every request has headers you did not list). */
  headers?: RequestSchema;
  /** Largest body by `Content-Length`, in bytes: larger ones get 413 (default 1 MiB). */
  maxBytes?: number;
  /** Deepest nesting of the parsed body (default 32): deeper ones get 400. */
  maxDepth?: number;
  /** Most object keys and array items in the parsed body (default 10 000): more get 400. */
  maxItems?: number;
  /** Most problems listed in a 400 answer (default 20). */
  maxIssues?: number;
}

const schema = z.custom<RequestSchema>((s) => typeof (s as RequestSchema | undefined)?.safeParse === 'function', {
  message: 'expected a zod schema (anything with safeParse)',
});

const optionsSchema = z
  .object({
    body: schema.optional(),
    query: schema.optional(),
    params: schema.optional(),
    headers: schema.optional(),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    maxDepth: z.number().int().min(1).max(1000).default(32),
    maxItems: z.number().int().positive().default(10_000),
    maxIssues: z.number().int().min(1).max(1000).default(20),
  })
  .strict()
  .refine((o) => o.body ?? o.query ?? o.params ?? o.headers, {
    message: 'give at least one of body, query, params, headers',
  });

/** One failing field: where (`body`, `query`, `params`, `headers`), which field, and what is wrong — never its value. */
export interface RequestIssue {
  readonly in: 'body' | 'query' | 'params' | 'headers';
  readonly field: string;
  readonly message: string;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Depth and item count of a parsed value, walked without recursion, stopping at the first limit passed. */
function exceeds(value: unknown, maxDepth: number, maxItems: number): 'maxDepth' | 'maxItems' | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stack: [unknown, number][] = [[value, 1]];
  let items = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > maxDepth) return 'maxDepth';
    const children = Array.isArray(node) ? node : Object.values(node as object);
    items += children.length;
    if (items > maxItems) return 'maxItems';
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return undefined;
}

const refuse = (status: number, title: string, detail: string, extra: object = {}): RespondOutcome => ({
  kind: 'respond',
  ...problemReply({ title, status, detail, ...extra }),
});

/**
 * The neutral guard behind `validateRequest`: checks size, media type and shape, then hands the route the parsed,
 * typed values (zod's output, defaults and transforms applied) in place of the raw ones. Refusals are RFC 9457
 * problems: 413 for a body over `maxBytes`, 415 for a body that is not JSON, 400 listing the failing fields
 * (`errors: [{ in, field, message }]`) without ever echoing what was sent.
 *
 * @example
 * ```ts
 * const createUser = requestValidator({ body: z.strictObject({ name: z.string().max(100), age: z.number().int() }) });
 * app.post('/users', toExpress(createUser), (req, res) => res.json(req.body)); // req.body is the parsed value
 * ```
 */
export function requestValidator(options: RequestValidatorOptions): Guard {
  const o = parseOptions(optionsSchema, options, 'validateRequest()');
  const parts = (['params', 'query', 'headers', 'body'] as const).filter((part) => o[part] !== undefined);
  const guard = (req: RequestView): NextOutcome | RespondOutcome => {
    const length = req.header('content-length');
    const hasBody = (length !== undefined && length !== '0') || req.header('transfer-encoding') !== undefined;
    if (o.body !== undefined && hasBody) {
      if (length !== undefined && Number(length) > o.maxBytes) {
        return refuse(413, 'Content Too Large', `The body is larger than ${o.maxBytes} bytes.`);
      }
      if (!JSON_TYPE.test(req.header('content-type') ?? '')) {
        return refuse(415, 'Unsupported Media Type', 'The body must be JSON (application/json).');
      }
      const limit = exceeds(req.body, o.maxDepth, o.maxItems);
      if (limit !== undefined) {
        const detail = limit === 'maxDepth' ? `nested deeper than ${o.maxDepth}` : `more than ${o.maxItems} items`;
        return refuse(400, 'Bad Request', `The body is ${detail}.`, { reason: limit });
      }
    }
    const issues: RequestIssue[] = [];
    const out: { body?: unknown; query?: Record<string, unknown>; params?: Record<string, unknown> } = {};
    for (const part of parts) {
      const input =
        part === 'body'
          ? req.body
          : part === 'query'
            ? req.query
            : part === 'params'
              ? (req.params ?? {})
              : ((req.raw as { headers?: unknown }).headers ?? {});
      const result = o[part]!.safeParse(input);
      if (result.success) {
        if (part === 'body') out.body = result.data;
        else if (part !== 'headers') out[part] = result.data as Record<string, unknown>;
      } else {
        for (const issue of result.error.issues) {
          if (issues.length === o.maxIssues) break;
          issues.push({ in: part, field: issue.path.map(String).join('.'), message: issue.message });
        }
      }
    }
    if (issues.length > 0) {
      return refuse(400, 'Bad Request', 'The request does not match what this route accepts.', { errors: issues });
    }
    return { kind: 'next', ...out };
  };
  return o.body === undefined ? guard : Object.assign(guard, { needs: ['body'] as const });
}
