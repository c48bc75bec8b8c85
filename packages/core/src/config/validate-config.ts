import { pino } from 'pino'
import { IMPORT_CAPABILITY, IMPORT_MODULE, type ImportName } from '../abi/native/spec.js'
import { isWaferError, type WaferErrorCode } from '../errors.js'
import type { FilterOptions } from '../runtime/filter-options.js'
import { readModuleSource } from '../runtime/module-cache.js'
import { readModuleInfo } from '../wasm/binary.js'
import { createWafer, type Wafer } from '../runtime/wafer.js'
import { invalidConfig, pointer, show, type ConfigProblem } from './config-error.js'
import { loadConfig, type LoadConfigOptions } from './load-config.js'
import { filterOrigin } from './resolve-config.js'
import { toWaferFilters } from './to-wafer-filters.js'
import type { ResolvedConfig } from './types.js'

/** Errors about the module file itself: reported once, at the declared filter's `module`. */
const MODULE_CODES: ReadonlySet<WaferErrorCode> = new Set<WaferErrorCode>([
  'WAFER_ERR_MODULE_READ', 'WAFER_ERR_MODULE_INVALID', 'WAFER_ERR_ABI_MISSING_VERSION', 'WAFER_ERR_ABI_VERSION',
  'WAFER_ERR_ABI_UNSUPPORTED', 'WAFER_ERR_ABI_MISSING_EXPORT', 'WAFER_ERR_ABI_BAD_SIGNATURE', 'WAFER_ERR_ABI_UNKNOWN_IMPORT'
])

/**
 * Loads a config as `loadConfig` does, then loads every filter the way the runtime would
 * (module, ABI, capabilities, limits, configuration) without serving anything. Throws one
 * WAFER_ERR_CONFIG_INVALID listing every problem found, each at its JSON path: all missing or
 * invalid modules, every import a filter's `capabilities` do not grant, every configuration a
 * filter rejects (a derived filter's at its chain entry). `wafer validate` runs this.
 */
export async function validateConfig (source: string | object, options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const config = await loadConfig(source, options)
  const problems = await filterProblems(config)
  if (problems.length > 0) throw invalidConfig(config.source, problems)
  return config
}

async function filterProblems (config: ResolvedConfig): Promise<ConfigProblem[]> {
  const all = toWaferFilters(config)
  const names = Object.keys(all)
  const declared = names.filter((n) => filterOrigin(config, n).base === n)
  const derived = names.filter((n) => filterOrigin(config, n).base !== n)
  const found = new Map<string, ConfigProblem[]>()
  await Promise.all(declared.map(async (name) => {
    found.set(name, await problemsOf(config, name, all[name] as FilterOptions, true))
  }))
  // A derived filter shares its base's module: only its own configuration can fail anew.
  const broken = new Set(declared.filter((n) => found.get(n)?.some((p) => !p.path.endsWith('/config') && !p.path.endsWith('/capabilities'))))
  await Promise.all(derived.filter((n) => !broken.has(filterOrigin(config, n).base)).map(async (name) => {
    found.set(name, await problemsOf(config, name, all[name] as FilterOptions, false))
  }))
  return names.flatMap((n) => found.get(n) ?? [])
}

/** The problems of one filter, loaded on its own with one instance. */
async function problemsOf (config: ResolvedConfig, name: string, options: FilterOptions, declared: boolean): Promise<ConfigProblem[]> {
  const origin = filterOrigin(config, name)
  const base = pointer('/filters', origin.base)
  const { capabilities, ...rest } = options
  const out: ConfigProblem[] = declared && capabilities !== undefined ? await capabilityProblems(base, options.module as string, capabilities) : []
  let wafer: Wafer | undefined
  try {
    // Every host function granted here: capabilities were checked above, in full.
    wafer = await createWafer({ filters: { [name]: { ...rest, pool: { ...rest.pool, min: 1, max: 1 } } }, logger: pino({ level: 'silent' }) })
  } catch (err) {
    const code = isWaferError(err) ? err.code : undefined
    const message = `${(err as Error).message}${code === undefined ? '' : ` (${code})`}`
    if (code !== undefined && MODULE_CODES.has(code)) out.push({ path: pointer(base, 'module'), message, value: options.module })
    else if (code === 'WAFER_ERR_MODULE_LIMITS') out.push({ path: pointer(base, 'limits'), message, value: options.limits })
    else if (code === 'WAFER_ERR_FILTER_CONFIG') out.push({ path: pointer(origin.path, 'config'), message, value: options.config })
    else out.push({ path: origin.path, message, value: undefined })
  } finally {
    await wafer?.close()
  }
  return out
}

/** One problem per capability the module's imports need and `capabilities` leaves out. */
async function capabilityProblems (base: string, module: string, grants: readonly string[]): Promise<ConfigProblem[]> {
  let imports
  try {
    imports = readModuleInfo((await readModuleSource(module)).bytes).imports
  } catch {
    return [] // an unreadable or invalid module is reported at its "module" path
  }
  const missing = new Map<string, string[]>()
  for (const imp of imports) {
    if (imp.module !== IMPORT_MODULE) continue
    const needs = IMPORT_CAPABILITY[imp.name as ImportName] as string | undefined
    if (needs === undefined || grants.includes(needs)) continue
    missing.set(needs, [...missing.get(needs) ?? [], `"${imp.module}"."${imp.name}"`])
  }
  return [...missing].map(([capability, what]) => ({
    path: pointer(base, 'capabilities'),
    message: `must include "${capability}": the module imports ${what.join(', ')} (WAFER_ERR_CAPABILITY_DENIED), got ${show(grants)}`,
    value: grants
  }))
}
