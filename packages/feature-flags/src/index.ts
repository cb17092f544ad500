export {
  featureFlags,
  FeatureFlags,
  type FeatureFlagsOptions,
  type FlagEvaluationEvent,
  type FlagsChangeEvent,
  type FlagsErrorEvent,
  type VariantResult,
} from './feature-flags.js';
export type { EvaluationErrorCode, EvaluationReason, FlagEvaluation } from './flag-evaluation.js';
export {
  constraintOperators,
  flagDocumentSchema,
  type Constraint,
  type ConstraintInput,
  type ConstraintOperator,
  type FlagDefinition,
  type FlagDefinitionInput,
  type FlagDocument,
  type FlagDocumentInput,
  type Rule,
  type RuleInput,
  type Serve,
  type Split,
} from './flag-definition.js';
export type { EvaluationContext } from './constraint-matcher.js';
export { bucket, rolloutSeed, variantSeed } from './bucket.js';
export { envName, envPrefix } from './env-overrides.js';
export type { FlagSource } from './flag-source.js';
export { fileSource, type FileSourceOptions } from './file-source.js';
export { httpSource, type HttpSourceOptions } from './http-source.js';
export { redisSource, type RedisSourceClient, type RedisSourceOptions, type RedisSubscriber } from './redis-source.js';
export { flagsGuard, requireFlagGuard, type FlagsMiddlewareOptions, type RequireFlagOptions } from './flags-guard.js';
export { RequestFlags } from './request-flags.js';
export { flagsAdminGuard, flagsAdminHandler, type FlagsAdminOptions } from './flags-admin.js';
