export { createVersioning, Versioning, type DeprecationEntry, type VersioningOptions } from './versioning.js';
export {
  customVersion,
  headerVersion,
  mediaTypeVersion,
  queryVersion,
  uriVersion,
  type VersionExtractor,
} from './extractors.js';
export { versionChange, type VersionChange, type VersionedRequest } from './version-change.js';
export { compareVersions, parseVersion, type ParsedVersion } from './version.js';
export { deprecationHeaders, type DeprecationInfo } from './deprecation-headers.js';
export { routeDeprecation, type RouteDeprecationOptions } from './route-deprecation.js';
