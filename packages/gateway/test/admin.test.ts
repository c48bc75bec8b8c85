import assert from 'node:assert/strict'
import { test } from 'node:test'
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
