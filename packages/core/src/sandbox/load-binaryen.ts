/**
 * binaryen.js is a 15 MB module that takes a few hundred milliseconds to load, and only modules
 * that are instrumented need it: it is imported on first use, once per process.
 */
export type Binaryen = typeof import('binaryen').default

/**
 * binaryen's C API, which binaryen.js exposes next to its wrappers (`_BinaryenLoopSetBody`
 * and so on). The fuel pass uses it to read and replace children in place, which the
 * high-level wrappers do not offer for every kind of expression.
 */
export type BinaryenRaw = Record<string, ((...args: number[]) => number) | undefined>

let loading: Promise<Binaryen> | undefined

export function loadBinaryen (): Promise<Binaryen> {
  if (loading === undefined) {
    loading = import('binaryen').then((m) => m.default, (err: unknown) => {
      loading = undefined // let a later call retry rather than cache the failure
      throw err
    })
  }
  return loading
}
