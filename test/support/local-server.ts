import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What `listenLocal` gives back: the server's URL, and a close that ends it. */
export interface LocalServer {
  url: string
  /** Closes the server and every connection it has (keep-alive ones too), then runs `after`. */
  close: () => Promise<void>
}

/**
 * Listens on a free port of 127.0.0.1 with an Express app (or anything with `listen(port, host)`
 * that returns a node:http Server); `after` runs once the server has closed (the middleware's own
 * close, say).
 */
export async function listenLocal (app: { listen: (port: number, host: string) => Server }, after?: () => Promise<void>): Promise<LocalServer> {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
      await after?.()
    }
  }
}
