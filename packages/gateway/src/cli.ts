import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { validateConfig } from '@wafer/core'
import cluster from 'node:cluster'
import { isClusterWorker, runPrimary, serveWorker } from './cluster.js'
import { adminToken } from './admin.js'
import { Gateway } from './gateway.js'
import { formatReport, inspectModule } from './inspect.js'

const USAGE = `Usage:
  wafer serve --config <file> [--port <n>] [--host <addr>] [--admin-port <n>] [--no-watch] [--workers <n>]
      Run the gateway described by a config file (YAML or JSON). It reloads when the file or
      a module changes (unless --no-watch or reload.watch: false), on SIGHUP, and on
      POST /_wafer/reload. SIGTERM/SIGINT stop it gracefully: in-flight requests finish
      (bounded by server.shutdownTimeoutMs). --workers n runs n processes sharing the port
      (node:cluster); use state.redis so rate limits hold across them.
  wafer validate --config <file>
      Check the config against the schema, that every module loads, speaks a known ABI and
      imports only what its capabilities grant, and that every filter accepts its configuration.
      Exit 0 when valid, 1 otherwise with every problem listed at its JSON path.
  wafer inspect <module.wasm> [--json]
      Show a module's ABI and version, exports and imports with signatures, size and sha256.
  wafer --help | --version`

function fail (message: string, code = 1): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

function port (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${flag} must be a port number 0-65535, got "${value}"\n\n${USAGE}`, 2)
  return n
}

async function main (argv: string[]): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'admin-port': { type: 'string' },
        json: { type: 'boolean' },
        'no-watch': { type: 'boolean' },
        workers: { type: 'string', short: 'w' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' }
      }
    })
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, 2)
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.version === true) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    process.stdout.write(`${pkg.version}\n`)
    return
  }
  if (values.help === true || command === undefined) {
    process.stdout.write(`${USAGE}\n`)
    if (command === undefined && values.help !== true) process.exitCode = 2
    return
  }

  if (command === 'inspect') {
    const file = rest[0]
    if (file === undefined) fail(`inspect needs a module file\n\n${USAGE}`, 2)
    try {
      const report = await inspectModule(file)
      process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`)
      if (report.abi === undefined) process.exitCode = 1
    } catch (err) {
      fail((err as Error).message)
    }
    return
  }

  if (command !== 'serve' && command !== 'validate') fail(`unknown command "${command}"\n\n${USAGE}`, 2)
  const config = values.config ?? fail(`${command} needs --config <file>\n\n${USAGE}`, 2)

  if (command === 'validate') {
    let gateway: Gateway
    try {
      // Every problem at once, each at its JSON path; then the gateway as `serve` would build it.
      await validateConfig(config)
      // The admin token's environment variable belongs to where it is served, not to CI: a
      // token written in the file is checked, one read from the environment is not.
      gateway = await Gateway.create({ config, logger: pino({ level: 'silent' }), watch: false, admin: false })
      const { token } = gateway.config.admin
      if (typeof token === 'string') adminToken(token, {})
    } catch (err) {
      fail(`✗ ${(err as Error).message}`)
    }
    const c = gateway.config
    await gateway.close()
    process.stdout.write(`✓ ${config}: ${Object.keys(c.filters).length} filters, ${Object.keys(c.chains).length} chains, ${c.routes.length} routes; every module loaded\n`)
    return
  }

  const overrides = { port: port(values.port, '--port'), host: values.host, adminPort: port(values['admin-port'], '--admin-port') }
  const workers = values.workers === undefined ? 1 : Number(values.workers)
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) fail(`--workers must be an integer from 1 to 256, got "${String(values.workers)}"\n\n${USAGE}`, 2)
  if (workers > 1 && cluster.isPrimary) return servePrimary(config, workers, overrides.adminPort, values['no-watch'] === true)
  const worker = isClusterWorker()

  let gateway: Gateway
  try {
    gateway = await Gateway.create({
      ...(worker ? { admin: false, watch: false } : {}),
      config,
      ...(overrides.port === undefined ? {} : { port: overrides.port }),
      ...(overrides.host === undefined ? {} : { host: overrides.host }),
      ...(overrides.adminPort === undefined ? {} : { adminPort: overrides.adminPort }),
      ...(values['no-watch'] === true ? { watch: false } : {})
    })
  } catch (err) {
    // Nothing is listening yet: a broken config never starts serving.
    fail(`✗ ${(err as Error).message}`)
  }
  if (worker) serveWorker(gateway)
  const { url, adminUrl } = await gateway.listen()
  if (worker) {
    process.once('SIGTERM', () => { gateway.close().then(() => process.exit(0), () => process.exit(1)) })
    return
  }
  gateway.app.log.info({ url, adminUrl }, `wafer gateway listening on ${url}${adminUrl === undefined ? '' : `, admin on ${adminUrl}`}`)
  // Whatever the log level, say where it listens (ports may have been chosen by the OS).
  process.stdout.write(`wafer: listening on ${url}${adminUrl === undefined ? '' : ` (admin ${adminUrl})`}\n`)
  process.on('SIGHUP', () => {
    gateway.app.log.info('SIGHUP: reloading the config')
    // A reload never rejects (its report says what failed); should that ever break, a signal
    // handler must still not take the gateway down with an unhandled rejection.
    gateway.reload().catch((err: unknown) => { gateway.app.log.error(`SIGHUP: reload failed: ${(err as Error)?.message}`) })
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      gateway.app.log.info(`${signal}: finishing in-flight requests`)
      gateway.close().then(() => process.exit(0), (err: unknown) => {
        gateway.app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
    })
  }
}

/** `serve --workers n`: the cluster primary; each worker runs this same command without it. */
async function servePrimary (config: string, workers: number, adminPort: number | undefined, noWatch: boolean): Promise<void> {
  const log = pino({ name: 'wafer-primary' })
  let primary
  try {
    primary = await runPrimary({ config, workers, logger: log, ...(adminPort === undefined ? {} : { adminPort }), ...(noWatch ? { watch: false } : {}) })
  } catch (err) {
    fail(`✗ ${(err as Error).message}`)
  }
  const { url, adminUrl } = primary
  log.info({ url, adminUrl, workers }, `wafer gateway listening on ${url} with ${workers} workers`)
  process.stdout.write(`wafer: listening on ${url}${adminUrl === undefined ? '' : ` (admin ${adminUrl})`}\n`)
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading every worker')
    primary.reload().catch((err: unknown) => { log.error(`SIGHUP: reload failed: ${(err as Error)?.message}`) })
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info(`${signal}: stopping the workers after their in-flight requests`)
      primary.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
}

main(process.argv.slice(2)).catch((err: unknown) => fail(`wafer: ${(err as Error).stack ?? String(err)}`))
