import { watch, type FSWatcher } from 'chokidar'
import { describe } from '../errors.js'
import type { WaferLogger } from '../logger.js'

/**
 * chokidar drops a file's change events for 50 ms after it reports one. A reload that read the
 * file sooner could miss the end of the write and never hear of it, so the watch always waits
 * longer than that.
 */
const SETTLE_MS = 60

export interface ConfigWatcher {
  /** Resolves once the initial scan is done: changes before it could be missed. */
  ready: Promise<void>
  close (): Promise<void>
}

/**
 * Watches a config file and the modules it names, and calls `reload` after `debounceMs` of
 * quiet (editors and build tools write several times, often by renaming a new file over the
 * old). Changes during a reload queue one more. After each reload the watched files follow
 * `files()`, so a module a new config adds is watched, and one it drops is not. `debounceMs`
 * may be a function, read at each change, so a reload can change it; under 60 it acts as 60.
 */
export function watchConfig (files: () => string[], reload: () => Promise<unknown>,
  options: { debounceMs: number | (() => number), log: WaferLogger }): ConfigWatcher {
  const watched = new Set(files())
  const watcher: FSWatcher = watch([...watched], { ignoreInitial: true, atomic: true })
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  const run = (): void => {
    timer = undefined
    if (running !== undefined) {
      again = true
      return
    }
    running = (async () => {
      try {
        await reload()
        const next = new Set(files())
        for (const p of next) if (!watched.has(p)) watcher.add(p)
        for (const p of watched) if (!next.has(p)) watcher.unwatch(p)
        watched.clear()
        for (const p of next) watched.add(p)
      } catch (err) {
        // `reload` reports its own failures and never rejects; this is a failure to follow the files.
        options.log.error(`config watch: updating the watched files failed: ${describe(err)}`)
      } finally {
        running = undefined
        if (again) {
          again = false
          run()
        }
      }
    })()
  }
  watcher.on('all', (event, path) => {
    options.log.debug({ event, path }, `config watch: ${event} ${path}`)
    if (timer !== undefined) clearTimeout(timer)
    const debounceMs = typeof options.debounceMs === 'function' ? options.debounceMs() : options.debounceMs
    timer = setTimeout(run, Math.max(debounceMs, SETTLE_MS))
  })
  watcher.on('error', (err) => { options.log.warn({ err }, 'config watch error') })
  const ready = new Promise<void>((resolve) => { watcher.once('ready', () => resolve()) })
  return {
    ready,
    async close () {
      if (timer !== undefined) clearTimeout(timer)
      await watcher.close()
      await running
    }
  }
}
