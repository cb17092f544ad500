import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';

describe('option schemas', () => {
  const schema = z
    .object({
      store: methodsSchema<{ get(): unknown }>(['get', 'set'], 'expected a store with get() and set()'),
      fn: functionSchema().optional(),
    })
    .strict();

  it('methodsSchema passes an object (or a class instance, or a function) with every method through as it is', () => {
    class Store {
      get() {}
      set() {}
    }
    const store = new Store();
    const fn = () => 1;
    const o = parseOptions(schema, { store, fn }, 'thing()');
    expect(o.store).toBe(store);
    expect(o.fn).toBe(fn); // functionSchema does not wrap the function
    const callable = Object.assign(() => 0, { get() {}, set() {} });
    expect(parseOptions(schema, { store: callable }, 'thing()').store).toBe(callable);
  });

  it('methodsSchema refuses anything missing a method, naming the field and what was expected', () => {
    for (const bad of [null, undefined, 1, 'store', { get() {} }, { get() {}, set: 1 }]) {
      expect(() => parseOptions(schema, { store: bad }, 'thing()')).toThrow(
        expect.objectContaining({
          field: 'store',
          message: 'thing(): invalid options: "store": expected a store with get() and set()',
        }),
      );
    }
  });
});

describe('parseOptions without an options object', () => {
  const schema = z.object({ limit: z.number(), windowMs: z.number({ message: 'ms' }), name: z.string().optional() });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [5, 'number'],
    [[1], 'an array'],
  ])('names the required fields when given %j', (input, got) => {
    expect(() => parseOptions(schema, input, 'limiter()')).toThrow(
      `limiter(): invalid options: expected an options object with limit, windowMs; got ${got}`,
    );
  });

  it('says only what it got when no field is required', () => {
    expect(() => parseOptions(z.object({ name: z.string().optional() }), 7, 'x()')).toThrow(
      'x(): invalid options: expected an options object; got number',
    );
  });
});
