// What publishing needs from every package.json, checked without packing (the outside-workspace
// test packs and installs them).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from '../support/index.ts'

const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }

/** Every file an `exports` map (or `bin`) points at, with `*` patterns left out. */
function targets (value: unknown): string[] {
  if (typeof value === 'string') return value.includes('*') ? [] : [value]
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(targets)
  return []
}

test('packages/ holds the six published packages', () => {
  assert.deepEqual(packages.sort(), ['core', 'express', 'fastify', 'gateway', 'redis-store', 'sdk-assemblyscript'])
})

for (const dir of packages) {
  test(`@wafer/${dir}: package.json has what publishing needs`, () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Record<string, any>
    assert.equal(pkg.name, `@wafer/${dir}`)
    assert.equal(pkg.private, undefined, 'not private')
    assert.equal(pkg.license, 'MIT')
    assert.ok(existsSync(join(root, 'packages', dir, 'LICENSE')), 'the license text ships with the package (npm packs LICENSE whatever "files" says)')
    assert.deepEqual(pkg.engines, rootPkg.engines, 'the same Node.js versions as the repository supports')
    assert.equal(pkg.repository?.type, 'git')
    assert.equal(pkg.repository?.directory, `packages/${dir}`)
    assert.deepEqual(pkg.publishConfig, { access: 'public' }, 'a scoped package is private on first publish unless told otherwise')
    assert.ok(Array.isArray(pkg.files) && pkg.files.length > 0, '"files" lists what is published')
    for (const entry of pkg.files as string[]) {
      assert.doesNotMatch(entry, /(^|\/)(test|tests|build|node_modules)(\/|$)/, `"files" leaves out ${entry}`)
      assert.ok(existsSync(join(root, 'packages', dir, entry)), `"files" entry ${entry} exists (after the build)`)
    }
    assert.ok(typeof pkg.types === 'string' && existsSync(join(root, 'packages', dir, pkg.types)), `"types" (${pkg.types}) exists`)
    assert.ok(pkg.exports?.['.'] !== undefined, '"exports" has "."')
    for (const target of [...targets(pkg.exports), ...targets(pkg.bin)]) {
      assert.ok(existsSync(join(root, 'packages', dir, target)), `${target} exists (after the build)`)
      assert.ok((pkg.files as string[]).some((f) => target.replace(/^\.\//, '').startsWith(`${f}/`) || target.replace(/^\.\//, '') === f || target === './package.json'),
        `${target} is inside "files"`)
    }
    for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies } as Record<string, string>)) {
      if (dep.startsWith('@wafer/')) assert.equal(range, 'workspace:*', `${dep}: pnpm pack turns workspace:* into this version`)
    }
  })
}
