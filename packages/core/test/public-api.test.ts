import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/core', async () => {
  expect(Object.keys(await import('@bulwark/core')).sort()).toMatchInlineSnapshot(`
    [
      "BasePolicy",
      "BulwarkConfigError",
      "BulwarkError",
      "ComposedPolicy",
      "DeadlineQueue",
      "Emitter",
      "FallbackPolicy",
      "NoopPolicy",
      "TimeoutError",
      "TimeoutPolicy",
      "abortSubscriberCount",
      "bulwarkChannel",
      "callFunction",
      "callOutcomeOf",
      "channelName",
      "clockSchema",
      "compose",
      "durationMsSchema",
      "fallback",
      "functionSchema",
      "isBulwarkConfigError",
      "isBulwarkError",
      "isPromiseLike",
      "isTimeoutError",
      "maxTimerMs",
      "methodsSchema",
      "nameSchema",
      "neverAbortedSignal",
      "noop",
      "parseOptions",
      "policyRun",
      "subscribeAbort",
      "systemClock",
      "timeout",
      "unrefTimer",
      "unsubscribeAbort",
    ]
  `);
  expect(Object.keys(await import('@bulwark/core/testing')).sort()).toMatchInlineSnapshot(`
    [
      "VirtualClock",
    ]
  `);
});
