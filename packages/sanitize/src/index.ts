export {
  jsonParser,
  parseJson,
  isJsonError,
  JsonError,
  type JsonParserOptions,
  type JsonRefusal,
} from './json-parser.js';
export { cleanString, stringCleaner, truncateUtf8, type CleanStringOptions } from './clean-string.js';
export { safeFilename, type SafeFilenameOptions } from './safe-filename.js';
export { isPathTraversalError, PathTraversalError, safeJoin, safeJoinReal } from './safe-join.js';
export { detectSuspicious, type SuspiciousCategory, type SuspiciousFinding } from './detect-suspicious.js';

// ---- Requests (framework adapters at ./express, ./fastify, ./koa) ----
export {
  requestValidator,
  type RequestIssue,
  type RequestSchema,
  type RequestValidatorOptions,
} from './request-validator.js';

// ---- HTML ----
export { escapeHtml, htmlPolicies, sanitizeHtml, type HtmlPolicy } from './sanitize-html.js';
