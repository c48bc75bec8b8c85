import { loadConfig, toWaferFilters, type GatewayConfig, type ResolvedConfig, type WaferDefinition, type WaferLogger } from '@wafer/core'
import { invalid } from './options.js'

/**
 * Loads a gateway config for the middleware: its filters and chains. Its routes are refused
 * rather than ignored: they are the gateway's (a path, an upstream or a local response), and
 * an Express app has its own routes; a config that declares them would silently not do what it
 * says. Serve such a config with `wafer serve` or `@wafer/fastify`.
 */
export async function loadDefinition (source: string | GatewayConfig): Promise<{ config: ResolvedConfig, definition: WaferDefinition }> {
  const config = await loadConfig(source)
  if (config.routes.length > 0) {
    invalid(`the config ${config.source} declares ${config.routes.length} route(s); @wafer/express runs a config's filters and chains, ` +
      'not its routes (proxying is the gateway\'s: use `wafer serve` or @wafer/fastify). Remove "routes" and put the chains ' +
      'on your Express routes with middleware.chain(name)')
  }
  // drainTimeoutMs too, so a reload applies a changed reload.drainTimeoutMs.
  return { config, definition: { filters: toWaferFilters(config), chains: { ...config.chains }, drainTimeoutMs: config.reload.drainTimeoutMs } }
}
