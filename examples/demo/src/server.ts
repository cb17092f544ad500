import { gracefulShutdown } from '@bulwark/health';
import { createApp, tryThese } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const app = createApp();
const server = app.listen(port, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${port}`;
  console.log(`Bulwark demo listening on ${base}\n\nTry:\n${tryThese(base).join('\n')}\n\nCtrl-C to stop.`);
});
// SIGTERM/SIGINT: /readyz fails at once, in-flight requests finish, then the process exits (Ctrl-C twice: at once).
const shutdown = gracefulShutdown([server], {
  health: app.health,
  readinessDelayMs: 0,
  drainTimeoutMs: 5_000,
  hooks: [{ name: 'telemetry', run: () => app.telemetry.dispose() }],
});
shutdown.onStep((step) => console.log(`shutdown: ${step.step}${step.name ? ` ${step.name}` : ''}`));
