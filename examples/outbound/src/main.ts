import { runScenario } from './run.js';

await runScenario();
