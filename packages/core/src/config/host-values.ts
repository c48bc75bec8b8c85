/*
 * What the programmatic options take beyond JSON: module bytes, functions, a logger, a store, a
 * runtime. The options schemas name them with the `instance` keyword, which validate-schema.ts
 * registers with ajv; `expected` is how an error message says what was wanted.
 */

const has = (value: unknown, methods: readonly string[]): boolean =>
  typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')

export const HOST_VALUES = {
  bytes: { expected: 'a Uint8Array of the module\'s bytes', test: (v: unknown) => v instanceof Uint8Array },
  function: { expected: 'a function', test: (v: unknown) => typeof v === 'function' },
  logger: {
    expected: 'a pino logger (an object with trace, debug, info, warn, error and child methods)',
    test: (v: unknown) => has(v, ['trace', 'debug', 'info', 'warn', 'error', 'child'])
  },
  store: {
    expected: 'a key-value store (an object with get, set, incr and delete methods)',
    test: (v: unknown) => has(v, ['get', 'set', 'incr', 'delete'])
  },
  observer: { expected: 'an object of observer callbacks', test: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) },
  runtime: { expected: 'a runtime made with createWafer()', test: (v: unknown) => has(v, ['enter', 'leave', 'reload', 'requireChain']) }
} as const satisfies Record<string, { expected: string, test: (v: unknown) => boolean }>

export type HostValue = keyof typeof HOST_VALUES
