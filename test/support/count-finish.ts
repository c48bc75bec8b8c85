import { request as httpRequest } from 'node:http'
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

/**
 * Sends GET `path`, waits until the route holds it (`inRoute`), aborts the client, and waits
 * until no request is left on `generation`.
 */
export async function abortInRoute (host: string, port: number, path: string, inRoute: Promise<unknown>,
  generation: { readonly inflight: number }): Promise<void> {
  const req = httpRequest({ host, port, path })
  req.on('error', () => {})
  req.end()
  await inRoute
  req.destroy()
  while (generation.inflight > 0) await new Promise((resolve) => setImmediate(resolve))
}
