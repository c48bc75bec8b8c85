import type { ResolvedConfig } from '@wafer/core'
import { invalid } from './options.js'

/**
 * Refuses a config that declares routes, rather than ignoring them: they are the gateway's (a
 * path, an upstream or a local response), and an Express app has its own routes; a config that
 * declares them would silently not do what it says. Serve such a config with `wafer serve` or
 * `@wafer/fastify`. Core's AdapterRuntime calls it on every load, at startup and on reloads.
 */
export function refuseRoutes (config: ResolvedConfig): void {
  if (config.routes.length > 0) {
    invalid(`the config ${config.source} declares ${config.routes.length} route(s); @wafer/express runs a config's filters and chains, ` +
      'not its routes (proxying is the gateway\'s: use `wafer serve` or @wafer/fastify). Remove "routes" and put the chains ' +
      'on your Express routes with middleware.chain(name)')
  }
}
