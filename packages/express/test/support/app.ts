import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import type { Express } from 'express'

/** Listens on 127.0.0.1, port 0; closes (keep-alive connections too) when the test ends. */
export async function listen (t: TestContext, app: Express): Promise<string> {
  const server: Server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
