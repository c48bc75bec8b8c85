// The apps the @solo-io/proxy-runtime behaviour checks (proxy-wasm-solo-*.test.ts) run through:
// test/support/adapter-apps.ts's, one per adapter over a real socket with a real pino logger,
// where each route is a prefix whose requests of any method it echoes (a text body too), and
// sets two response headers the filters rewrite (`x-route-tag: route`, `x-route-drop: 1`);
// `/count` requests wait at a barrier until `barrier` of them have arrived, so that every one
// reads shared data before any writes it.
import type { TestContext } from 'node:test'
import type { ChainSpec, WaferDefinition } from '@wafer/core'
import { adapters, runApp, type AdapterApp, type AppOptions, type Echo } from '../support/adapter-apps.ts'

export interface SoloAppOptions {
  filters: WaferDefinition['filters']
  /** Path prefix (`/x`) -> the chain of the requests under it. */
  routes: Record<string, ChainSpec>
  /** How many `/count` requests the barrier holds until all arrived (default 1: none held). */
  barrier?: number
}

export type SoloApp = Omit<AdapterApp, 'close'>

/** What every route answers: the request as it reached the route. */
export type SoloEcho = Echo

const ROUTE_HEADERS = { 'x-route-tag': 'route', 'x-route-drop': '1' }

function solo (make: (o: AppOptions) => Promise<AdapterApp>): (t: TestContext, o: SoloAppOptions) => Promise<SoloApp> {
  return (t, o) => runApp(t, make, { filters: o.filters, prefixes: o.routes, replyHeaders: ROUTE_HEADERS, ...(o.barrier === undefined ? {} : { barrier: o.barrier }) })
}

/** The two adapters, by name: each starts an app that is closed after the test. */
export const soloAdapters = [['fastify', solo(adapters[0][1])], ['express', solo(adapters[1][1])]] as const
