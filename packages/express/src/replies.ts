import type { ServerResponse } from 'node:http'
import { errorReply, type LocalResponse, type WaferLogger } from '@wafer/core'

/** Answers with a filter's response (or a failure policy's); no later filter or route runs. */
export function sendLocal (res: ServerResponse, response: LocalResponse): void {
  res.statusCode = response.status
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
  res.end(response.body ?? '')
}

/**
 * Logs `err` (client errors at info, like Fastify) and answers with core's JSON error body
 * (`errorReply`), the shape Fastify's error replies have, so both adapters answer alike. Filter
 * failures do not come here: the chain answers those itself.
 */
export function sendError (res: ServerResponse, err: unknown, log: WaferLogger | undefined, message?: string): void {
  const response = errorReply(err, message)
  if (response.status >= 500) log?.error({ err }, (err as Error).message ?? String(err))
  else log?.info({ err }, (err as Error).message ?? String(err))
  if (res.headersSent || res.destroyed) return
  sendLocal(res, response)
}
