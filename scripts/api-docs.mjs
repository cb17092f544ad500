// The API reference, generated from the TSDoc of every public entry point (each package's exports but
// `./internal`) with TypeDoc into docs/api/ (not committed). Fails on any warning: an export without a doc comment, a
// `{@link}` that resolves to nothing or to something not exported. Modules are named as users import them
// (`@bulwark/rate-limiter/redis`), so a comment links across packages with `{@link @bulwark/core!BulwarkConfigError}`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Application, Converter, ReflectionKind } from 'typedoc';

const root = new URL('..', import.meta.url).pathname;
const moduleNames = new Map(); // 'bulkhead/src/express' → '@bulwark/bulkhead/express'
const entryPoints = [];
const packageNames = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  packageNames.push(pkg.name);
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json' || subpath === './internal') continue;
    const file = join(root, 'packages', dir, target['@bulwark/source']);
    entryPoints.push(file);
    const generated = relative(join(root, 'packages'), file)
      .replace(/\.ts$/, '')
      .replace(/\/index$/, '');
    moduleNames.set(generated, subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
  }
}

const app = await Application.bootstrapWithPlugins({
  entryPoints,
  entryPointStrategy: 'resolve',
  tsconfig: join(root, 'tsconfig.json'),
  out: join(root, 'docs', 'api'),
  name: 'Bulwark API reference',
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  disableSources: true, // no public repository URL yet to link sources to
  validation: { notExported: true, invalidLink: true, rewrittenLink: true, notDocumented: true },
  requiredToBeDocumented: ['Function', 'Class', 'Variable', 'TypeAlias', 'Interface', 'Enum'],
  packagesRequiringDocumentation: packageNames, // by default only the root package's (private) name
  treatWarningsAsErrors: true,
  logLevel: 'Warn',
});
app.converter.on(Converter.EVENT_CREATE_DECLARATION, (_context, reflection) => {
  if (reflection.kindOf(ReflectionKind.Module)) reflection.name = moduleNames.get(reflection.name) ?? reflection.name;
});
const project = await app.convert();
if (project === undefined) process.exit(1);
app.validate(project);
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
await app.generateDocs(project, join(root, 'docs', 'api'));
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
console.log(`API reference: ${entryPoints.length} entry points, docs/api/index.html`);
