import { existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..')

function built (path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (scripts/build-guests.mjs) first`)
  return path
}

/** A compiled test fixture (test/fixtures/guests/<name>.{wat,ts}). */
export function fixture (name: string): string {
  return built(join(root, 'test/fixtures/build', `${name}.wasm`))
}

/** A compiled example filter (examples/filters/<name>). */
export function exampleFilter (name: string): string {
  return built(join(root, 'examples/filters', name, 'build', `${name}.wasm`))
}

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

/** A real pino logger whose lines are kept for assertions. */
export function captureLogger (level = 'debug'): { logger: pino.Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine) } })
  return { logger, lines }
}

export const silent = pino({ level: 'silent' })

/** Points WAFER_CACHE_DIR at `dir` for one test, and puts the previous value back after it. */
export function useCacheDir (t: { after: (fn: () => void) => void }, dir: string): void {
  const previous = process.env.WAFER_CACHE_DIR
  process.env.WAFER_CACHE_DIR = dir
  t.after(() => { if (previous === undefined) delete process.env.WAFER_CACHE_DIR; else process.env.WAFER_CACHE_DIR = previous })
}

export { atomicWrite, until } from './polling.ts'
export { listenLocal, type LocalServer } from './local-server.ts'
