// The tests start their own Redis servers (a real redis-server, so failure tests can stop and
// freeze it): the binary must be installed. `npm test` installs it with apt-get when it can
// (root or passwordless sudo, as .ci/run does); otherwise it stops before building, with one
// message that says what to install.
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const PACKAGE = 'redis-server'

export const MISSING_MESSAGE = `redis-server not found: the tests start their own Redis servers, so Redis must be installed.
Install it, then run the tests again:
  Debian/Ubuntu:  sudo apt-get install redis-server
  Fedora/RHEL:    sudo dnf install redis
  macOS:          brew install redis
or set REDIS_SERVER to the path of a redis-server binary.`

function executable (path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The path of `name` on PATH (or `name` itself when it holds a slash), or undefined. */
export function which (name, env = process.env) {
  if (name.includes('/')) return executable(name) ? name : undefined
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, name))) return join(dir, name)
  }
  return undefined
}

/** The redis-server the tests will run: REDIS_SERVER (what test/support/redis.ts reads), else PATH. */
export function findRedisServer (env = process.env) {
  return which(env.REDIS_SERVER || 'redis-server', env)
}

/** `sudo` when it runs without a password prompt, '' for root, undefined when neither. */
function privilege (env) {
  if (process.getuid?.() === 0) return ''
  if (which('sudo', env) === undefined) return undefined
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore', env })
    return 'sudo'
  } catch {
    return undefined
  }
}

function aptInstall (sudo, env) {
  const run = (args) => {
    const [cmd, ...rest] = sudo === '' ? args : [sudo, ...args]
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', PACKAGE])
}

/**
 * Returns the redis-server path. When it is missing and `install` is set, installs it with
 * apt-get if that is possible here. Otherwise throws an Error whose message is MISSING_MESSAGE
 * (plus why an install failed).
 */
export function ensureRedisServer ({ install = false, env = process.env, log = console.log } = {}) {
  const found = findRedisServer(env)
  if (found !== undefined) return found
  if (env.REDIS_SERVER) throw new Error(`REDIS_SERVER=${env.REDIS_SERVER} is not an executable file.\n${MISSING_MESSAGE}`)
  const sudo = install && which('apt-get', env) !== undefined ? privilege(env) : undefined
  if (sudo === undefined) throw new Error(MISSING_MESSAGE)
  log(`--- ${PACKAGE} not found (the tests start their own Redis servers): ${sudo ? 'sudo ' : ''}apt-get install ${PACKAGE}`)
  try {
    aptInstall(sudo, env)
  } catch (err) {
    throw new Error(`apt-get install ${PACKAGE} failed (${err.message.split('\n')[0]}).\n${MISSING_MESSAGE}`)
  }
  const installed = findRedisServer(env)
  if (installed === undefined) throw new Error(`apt-get installed ${PACKAGE}, but it is not on PATH (${env.PATH}).\n${MISSING_MESSAGE}`)
  return installed
}
