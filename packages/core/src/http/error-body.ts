import { STATUS_CODES } from 'node:http'
import { WaferError } from '../errors.js'
import type { LocalResponse } from './decision.js'

/** The content-type of every JSON error Wafer answers with. */
export const JSON_ERROR_TYPE = 'application/json; charset=utf-8'

/**
 * The JSON error body every Wafer answer uses, shaped like Fastify's default error reply so a
 * client sees one shape whichever adapter, filter or listener answered:
 * `{ statusCode, code, error, message, ...extra }`. `code` is left out when undefined (a
 * client error Node.js's parser raised has none).
 */
export function errorBody (status: number, code: string | undefined, message: string, extra?: Record<string, unknown>): string {
  const body = { statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message }
  return JSON.stringify(extra === undefined ? body : { ...body, ...extra })
}

/** `errorBody` as a local response. */
export function errorResponse (status: number, code: string | undefined, message: string, extra?: Record<string, unknown>): LocalResponse {
  return { status, headers: { 'content-type': JSON_ERROR_TYPE }, body: errorBody(status, code, message, extra) }
}

/**
 * The answer to an error Wafer itself ends a request with (a body over the limit, a chain
 * mounted in the wrong place): a coded error's status, code and message, which say which limit
 * or rule was hit; anything else is a 500 `WAFER_ERR_INTERNAL` whose message is kept for the
 * log. `message` replaces the client-facing message.
 */
export function errorReply (err: unknown, message?: string): LocalResponse {
  if (err instanceof WaferError) return errorResponse(err.statusCode, err.code, message ?? err.message)
  return errorResponse(500, 'WAFER_ERR_INTERNAL', message ?? 'Internal Server Error')
}
