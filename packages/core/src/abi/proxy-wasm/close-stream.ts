import type { Glue } from './glue.js'
import { Status, StreamType } from './spec.js'

type Fn = (...args: never[]) => number

/**
 * `proxy_close_stream` (docs/proxy-wasm.md, "Closing the stream"), as Envoy answers it for an
 * HTTP filter: `HTTP_REQUEST` and `HTTP_RESPONSE` both reset the request's one stream, in
 * whichever phase the call is made (Envoy's decoder and encoder callbacks reset the same
 * stream), so the client gets no response and the route or upstream is not (or no longer)
 * waited on. The reset happens when the callback returns, whatever the action it returns.
 * Outside a request's phase (the root context, `proxy_on_log`) there is no stream to close, and
 * `DOWNSTREAM` / `UPSTREAM` name the connections of network filters, which Wafer has none of:
 * `OK` and nothing happens, as in Envoy's HTTP filters. Spread into host-calls.ts's table.
 */
export function closeStreamImports (g: Glue): Record<string, Fn> {
  return {
    proxy_close_stream: (type: number): number => {
      if (type < 0 || type > StreamType.Max) return Status.BadArgument
      if ((type === StreamType.Request || type === StreamType.Response) && (g.stage === 'request' || g.stage === 'response')) g.call.closeStream()
      return Status.Ok
    }
  }
}
