// watch: true reloads when the config file or a module it names changes on disk.
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import express from 'express'
import type { ReloadReport } from '@wafer/core'
import { createWaferMiddleware } from '../src/index.ts'
import { atomicWrite, fixture, silent, until } from '../../../test/support/index.ts'
import { listen } from './support/app.ts'

test('a module replaced on disk, then a config edit: each reloads once the writes settle', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-express-watch-'))
  const module = join(dir, 'filter.wasm')
  await copyFile(fixture('variant-a'), module)
  const config = join(dir, 'gateway.yaml')
  await writeFile(config, 'reload: { debounceMs: 20 }\nfilters:\n  v: { module: ./filter.wasm }\nchains:\n  main: [v]\n')
  const reports: ReloadReport[] = []
  const mw = await createWaferMiddleware({ config, watch: true, chain: 'main', logger: silent, observer: { onReload: (r) => { reports.push(r) } } })
  t.after(() => mw.close())
  const app = express()
  app.use(mw)
  app.get('/', (_req, res) => { res.send('ok') })
  const url = await listen(t, app)
  const variant = async (): Promise<string | null> => (await fetch(url)).headers.get('x-variant-out')
  assert.equal(await variant(), 'a')

  await atomicWrite(module, await readFile(fixture('variant-b')))
  await until('the module reload', () => reports.length === 1)
  assert.equal(reports[0]?.outcome, 'applied')
  assert.equal(await variant(), 'b')

  await copyFile(fixture('variant-a'), join(dir, 'other.wasm'))
  await atomicWrite(config, 'reload: { debounceMs: 20 }\nfilters:\n  v: { module: ./other.wasm }\nchains:\n  main: [v]\n')
  await until('the config reload', () => reports.length === 2)
  assert.equal(reports[1]?.outcome, 'applied')
  assert.equal(await variant(), 'a')

  // The watch followed the config to the new module.
  await atomicWrite(join(dir, 'other.wasm'), await readFile(fixture('variant-b')))
  await until('the new module\'s reload', () => reports.length === 3)
  assert.equal(await variant(), 'b')
})
