import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig, type ConfigInvalidError } from '@wafer/core'
import { adminToken, isLoopback } from '../src/admin.ts'

test('isLoopback: only addresses that accept connections from this machine alone', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::0:1', '::ffff:127.0.0.1', '::ffff:127.1.2.3', 'localhost', 'LOCALHOST']) {
    assert.equal(isLoopback(host), true, host)
  }
  for (const host of ['0.0.0.0', '::', '[::]', '10.0.0.7', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', 'fe80::1%eth0', 'gateway.internal', '128.0.0.1']) {
    assert.equal(isLoopback(host), false, host)
  }
})

test('adminToken: the token itself, or read from the environment and trimmed; none when not set', () => {
  const token = '0123456789abcdef'
  assert.equal(adminToken(undefined, {}), undefined)
  assert.equal(adminToken(token, {}), token)
  assert.equal(adminToken({ env: 'T' }, { T: ` ${token}\n` }), token)
  assert.throws(() => adminToken({ env: 'T' }, {}), { code: 'WAFER_ERR_ADMIN_TOKEN', message: /environment variable T \(admin\.token\.env\) is not set or empty/ })
  assert.throws(() => adminToken({ env: 'T' }, { T: '  ' }), { code: 'WAFER_ERR_ADMIN_TOKEN' })
  assert.throws(() => adminToken({ env: 'T' }, { T: 'short' }), { code: 'WAFER_ERR_ADMIN_TOKEN', message: /the token in environment variable T \(admin\.token\.env\) has 5 characters; use at least 16/ })
  assert.throws(() => adminToken('x'.repeat(15), {}), { code: 'WAFER_ERR_ADMIN_TOKEN', message: /admin\.token has 15 characters/ })
})

test('admin.token in a config file: a string or { env: NAME }, with the name checked', () => {
  const problems = (token: unknown): string[] => {
    try {
      resolveConfig({ filters: {}, admin: { token } }, '<object>', '/')
      return []
    } catch (err) {
      return (err as ConfigInvalidError).errors.map((p) => `${p.path}: ${p.message}`)
    }
  }
  assert.deepEqual(problems('0123456789abcdef'), [])
  assert.deepEqual(problems({ env: 'WAFER_ADMIN_TOKEN' }), [])
  assert.deepEqual(resolveConfig({ filters: {}, admin: { token: { env: 'T' } } }, '<object>', '/').admin.token, { env: 'T' })
  assert.ok(problems({ env: 'bad-name' }).includes('/admin/token/env: must be an environment variable name (letters, digits and "_", not starting with a digit), got "bad-name"'))
  assert.deepEqual(problems(5), ['/admin/token: must be a non-empty string or an object with keys env, got 5'])
})
