import { createHash } from 'node:crypto'
import { NAME_MAX } from './defaults.js'

/**
 * The name of a filter derived from `filter` for one use with its own config: position
 * `position` of chain `scope` (`route<index>` for a route's inline chain). The name is the
 * derived filter's log name and key-value namespace, so it must be stable across restarts and
 * obey the filter-name rule. When `<filter>.<scope>.<position>` is too long or already taken,
 * it is cut and made unique with a short hash of the full name: `<cut>-<hash8>.<position>`.
 */
export function derivedName (filter: string, scope: string, position: number, taken: ReadonlySet<string>): string {
  const full = `${filter}.${scope}.${position}`
  if (full.length <= NAME_MAX && !taken.has(full)) return full
  for (let attempt = 0; ; attempt++) {
    const hash = createHash('sha256').update(attempt === 0 ? full : `${full}#${attempt}`).digest('hex').slice(0, 8)
    const tail = `-${hash}.${position}`
    const name = `${filter}.${scope}`.slice(0, NAME_MAX - tail.length) + tail
    if (!taken.has(name)) return name
  }
}
