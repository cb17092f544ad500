import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/core', async () => {
  expect(Object.keys(await import('@bulwark/core')).sort()).toMatchInlineSnapshot(`
    [
      "BulwarkConfigError",
      "BulwarkError",
      "ComposedPolicy",
      "FallbackPolicy",
      "NoopPolicy",
      "TimeoutError",
      "TimeoutPolicy",
      "callOutcomeOf",
      "channelName",
      "compose",
      "fallback",
      "handleAll",
      "handleResult",
      "handleType",
      "handleWhen",
      "isBulwarkConfigError",
      "isBulwarkError",
      "isTimeoutError",
      "noop",
      "systemClock",
      "timeout",
    ]
  `);
  expect(Object.keys(await import('@bulwark/core/testing')).sort()).toMatchInlineSnapshot(`
    [
      "VirtualClock",
    ]
  `);
  // Not semver-stable, but what the packages rely on: a rename here must be deliberate.
  expect(Object.keys(await import('@bulwark/core/internal')).sort()).toMatchInlineSnapshot(`
    [
      "BasePolicy",
      "DeadlineQueue",
      "Emitter",
      "abortSubscriberCount",
      "bulwarkChannel",
      "callFunction",
      "clockSchema",
      "durationInputSchema",
      "durationMsSchema",
      "fanoutListening",
      "functionSchema",
      "isPromiseLike",
      "maxTimerMs",
      "methodsSchema",
      "nameSchema",
      "neverAbortedSignal",
      "parseOptions",
      "policyRun",
      "subscribeAbort",
      "unrefTimer",
      "unsubscribeAbort",
    ]
  `);
});
