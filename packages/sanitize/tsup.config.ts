import { packageBuild } from '../../tsup.base.js';

export default packageBuild({
  index: 'src/index.ts',
  express: 'src/express.ts',
  fastify: 'src/fastify.ts',
  koa: 'src/koa.ts',
});
