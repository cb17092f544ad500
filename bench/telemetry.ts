/**
 * Telemetry cases: a circuit breaker's success path with @bulwark/telemetry not loaded, loaded but not
 * instrumenting (every channel without subscribers), and instrumenting into a prom-client registry. One process
 * per case, so "not loaded" really is not loaded.
 */
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';

const work = async (): Promise<number> => 1;
const breaker = () => circuitBreaker({ name: 'bench', window: consecutive(5) });

export const cases: Record<string, () => () => Promise<unknown>> = {
  'await (floor)': () => () => work(),
  'breaker, success, telemetry not loaded': () => {
    const b = breaker();
    return () => b.execute(work);
  },
  'breaker, success, telemetry loaded, not instrumenting': () => {
    const b = breaker();
    return () => b.execute(work);
  },
  'breaker, success, instrumented (Prometheus)': () => {
    const b = breaker();
    return () => b.execute(work);
  },
};

// Top-level await: the module is imported before a case is made.
const [, , , name] = process.argv;
if (name?.includes('telemetry loaded') || name?.includes('instrumented')) {
  const telemetry = await import('@bulwark/telemetry');
  if (name.includes('instrumented')) {
    const { Registry } = await import('prom-client');
    telemetry.instrument({ registry: new Registry() });
  }
}
