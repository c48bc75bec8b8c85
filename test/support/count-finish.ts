import type { Chain } from '@wafer/core'

/** Counts a chain's finish calls (the real one still runs); restored when the test ends. */
export function countFinish (t: { after: (fn: () => void) => void }, chain: Chain): { count: number } {
  const counter = { count: 0 }
  const real = chain.finish.bind(chain)
  chain.finish = (ex) => {
    counter.count++
    real(ex)
  }
  t.after(() => { Reflect.deleteProperty(chain, 'finish') })
  return counter
}
