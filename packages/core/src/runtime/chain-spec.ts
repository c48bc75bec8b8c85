import type { AdapterName } from '../config/options-schema.js'
import { waferError } from '../errors.js'
import type { ChainSpec } from './generation.js'

/**
 * A chain as an application writes it in an adapter's options (a route's config, a router's
 * middleware): a chain's name or an array of filter names. Anything else throws
 * WAFER_ERR_OPTIONS_INVALID naming the adapter and `where` it was written.
 */
export function checkChainSpec (adapter: AdapterName, spec: unknown, where: string): ChainSpec {
  if (typeof spec === 'string' || (Array.isArray(spec) && spec.every((n) => typeof n === 'string'))) return spec as ChainSpec
  throw waferError('WAFER_ERR_OPTIONS_INVALID', [`${adapter}: ${where} must be a chain name or an array of filter names, got ${JSON.stringify(spec)}`])
}
