import { createApp, tryThese } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const server = createApp().listen(port, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${port}`;
  console.log(`Bulwark demo listening on ${base}\n\nTry:\n${tryThese(base).join('\n')}\n\nCtrl-C to stop.`);
});
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
