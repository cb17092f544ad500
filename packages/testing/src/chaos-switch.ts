/**
 * The one switch every fault policy obeys (Simmy's global "monkey" switch): off means every fault policy passes
 * calls straight through. Kept on `globalThis` under a registered symbol, so two copies of this package (ESM and
 * CJS) share it.
 */
export interface ChaosSwitch {
  /** True while fault policies may inject. Starts true. */
  readonly enabled: boolean;
  /** Lets fault policies inject again. */
  enable(): void;
  /** Makes every fault policy pass calls through untouched. */
  disable(): void;
}

const key = Symbol.for('bulwark.testing.chaos');
interface State {
  enabled: boolean;
}
const state: State = ((globalThis as Record<symbol, State | undefined>)[key] ??= { enabled: true });

/**
 * The global chaos switch.
 *
 * @example
 * ```ts
 * if (process.env.CHAOS !== 'on') chaos.disable(); // staging turns it on, production never does
 * ```
 */
export const chaos: ChaosSwitch = {
  get enabled() {
    return state.enabled;
  },
  enable() {
    state.enabled = true;
  },
  disable() {
    state.enabled = false;
  },
};
