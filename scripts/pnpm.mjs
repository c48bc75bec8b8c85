// How the scripts run pnpm: the one on PATH, or the pinned version through npx on a machine
// that has only Node.js and npm.
import { execFileSync } from 'node:child_process'

export const PNPM = 'pnpm@10.34.8'

/** [command, leading args] that run pnpm here. */
export function pnpmCommand () {
  try {
    execFileSync('pnpm', ['--version'], { stdio: 'ignore' })
    return ['pnpm', []]
  } catch {
    return ['npx', ['--yes', PNPM]]
  }
}
