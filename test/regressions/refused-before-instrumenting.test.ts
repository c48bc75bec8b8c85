// A 2.5 MB module that was then refused as unsupported first cost seconds of CPU in the sandbox
// instrumentation (and left an instrumented copy in the cache). The ABI, imports and capabilities
// are checked on the module as given, so nothing is instrumented for a module that is refused.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { captureLogger, useCacheDir } from '../support/index.ts'
import { bigModule } from '../support/big-module.mjs'

const refused = [
  { marker: 'proxy_abi_version_0_3_0', code: 'WAFER_ERR_ABI_VERSION' },
  { marker: 'wafer_abi_version_9', code: 'WAFER_ERR_ABI_VERSION' }
]

for (const { marker, code } of refused) {
  test(`a 3 MB module exporting ${marker} is refused with ${code} without being instrumented`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wafer-refused-'))
    const cache = join(dir, 'cache')
    useCacheDir(t, cache)
    const module = join(dir, 'big.wasm')
    await writeFile(module, bigModule({ bytes: 3_000_000, marker }))

    const { logger, lines } = captureLogger()
    const app = Fastify({ loggerInstance: logger })
    t.after(() => app.close())
    await assert.rejects(async () => { await app.register(wafer, { filters: { big: { module } } }).ready() }, { code, message: /big\.wasm/ })
    assert.equal(lines.some((l) => /instrumenting/.test(l.msg)), false, 'no instrumentation was started')
    assert.deepEqual(await readdir(cache).catch(() => []), [], 'nothing was written to the instrumentation cache')
  })
}
