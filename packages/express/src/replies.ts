import { STATUS_CODES, type ServerResponse } from 'node:http'
import { WaferError, type LocalResponse, type WaferLogger } from '@wafer/core'

/** Answers with a filter's response (or a failure policy's); no later filter or route runs. */
export function sendLocal (res: ServerResponse, response: LocalResponse): void {
  res.statusCode = response.status
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
  res.end(response.body ?? '')
}

/**
 * The JSON error body for errors the adapter itself answers with (body too large, reply too
 * large), shaped like Fastify's default error reply so both adapters answer alike. Filter
 * failures do not come here: the chain answers those with `failureResponse()`.
 */
export function errorResponse (err: unknown, message?: string): LocalResponse {
  const coded = err instanceof WaferError
  const status = coded ? err.statusCode : 500
  const code = coded ? err.code : 'WAFER_ERR_INTERNAL'
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      statusCode: status,
      code,
      error: STATUS_CODES[status] ?? 'Error',
      // A coded error's message says which limit was hit; anything else may carry internals.
      message: message ?? (coded ? err.message : 'Internal Server Error')
    })
  }
}

/** Logs `err` (client errors at info, like Fastify) and answers with its JSON error. */
export function sendError (res: ServerResponse, err: unknown, log: WaferLogger | undefined, message?: string): void {
  const response = errorResponse(err, message)
  if (response.status >= 500) log?.error({ err }, (err as Error).message ?? String(err))
  else log?.info({ err }, (err as Error).message ?? String(err))
  if (res.headersSent || res.destroyed) return
  sendLocal(res, response)
}
