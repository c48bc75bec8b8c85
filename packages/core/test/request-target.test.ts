import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Exchange } from '../src/http/exchange.ts'
import { FilterCall, INVALID } from '../src/http/request-context.ts'
import { isRefusal, normalizePath, normalizeRequestTarget } from '../src/http/request-target.ts'
import { silent } from '../../../test/support/index.ts'

const refused = (url: string): boolean => isRefusal(normalizeRequestTarget(url))

test('an ordinary target is returned as it is (the same string)', () => {
  for (const url of ['/', '/api/items', '/a/..b;c/.x', '/a;b/c..;d', '/api/items?page=2&q=a%20b', '/a.b/c..d/...', '/x//y', '/:id/@x/~u/a+b;c=d']) {
    assert.equal(normalizeRequestTarget(url), url)
  }
})

test('encoded unreserved characters are decoded; other escapes are kept', () => {
  assert.equal(normalizeRequestTarget('/%61dmin/%7Euser/a%2Eb'), '/admin/~user/a.b')
  assert.equal(normalizeRequestTarget('/a%20b/%C3%A9?q=%2e'), '/a%20b/%C3%A9?q=%2e', 'the query is not normalised')
  assert.equal(normalizeRequestTarget('/%25%41'), '/%25A', 'one decoding, never two')
})

test('absolute-form is reduced to its path and query (RFC 9112 section 3.2.2)', () => {
  assert.equal(normalizeRequestTarget('http://evil.example/v2/x?y=1'), '/v2/x?y=1')
  assert.equal(normalizeRequestTarget('HTTPS://h:8443'), '/')
  assert.equal(normalizeRequestTarget('http://h?x'), '/?x')
  assert.ok(refused('http://h/a/../b'), 'the reduced path obeys the rule too')
  assert.ok(refused('http://h#/x'))
  assert.ok(refused('ftp://h/x'))
  assert.ok(refused('*'))
  assert.ok(refused('h:80'))
})

test('every traversal variant, fragment and raw byte is refused', () => {
  const variants = [
    '/v2/x\\..\\..\\etc\\passwd', '/v2/x%5c..%5c..%5cetc', '/v2/x%5C..', '/v2/%2e%2e/etc', '/v2/%2E%2E/etc', '/v2/.%2e/x', '/v2/%2e./x',
    '/v2/x/..%2f..%2fetc', '/v2/x%2Fy', '/v2/%252e%252e/etc', '/v2/%252f', '/v2/%255c', '/v2/%2525', '/v2/%25%32%65%25%32%65/x',
    '/v2/../etc', '/v2/./x', '/v2/..', '/v2/.', '/v2/x#frag', '/v2/x?y#frag', '/v2/%zz', '/v2/%4', '/v2/a b', '/v2/\x7f',
    '/v2/caf\u00e9', '/v2/x?q=\u00a0', '/v2/x?q=a\u0085', '/v2/..;/x', '/v2/.;a=1/x', '/v2/%2e%2e%3bx/y'
  ]
  for (const v of variants) assert.ok(refused(v), `${JSON.stringify(v)} is refused`)
})

test('a filter\'s path and query obey the same rule, normalised the same way', () => {
  const call = (): FilterCall => {
    const c = new FilterCall()
    c.begin(new Exchange({ id: '1', method: 'GET', url: '/a', headers: {}, remoteAddress: '', log: silent }), 'request', false)
    return c
  }
  const c = call()
  assert.equal(c.setPath('/%61pi/x'), 0)
  assert.equal(c.ex?.path, '/api/x')
  for (const path of ['/a#b', '/a/../b', '/a%2fb', 'a', '/a\\b', '/a?b', '/a\u00a0']) {
    const refused = call()
    assert.equal(refused.setPath(path), INVALID, path)
    assert.match(refused.problem, /is refused/)
  }
  assert.equal(call().setQuery('a#b'), INVALID)
  assert.equal(call().setQuery('a\u0085'), INVALID)
  assert.equal(c.setQuery('a=1?b'), 0)
  assert.equal(c.ex?.query, 'a=1?b')
  // Whatever the client may send, a filter may pass on unchanged.
  for (const url of ['/x/%41?q=%2e&r=?', 'http://h/p?q']) {
    const target = normalizeRequestTarget(url) as string
    const q = target.indexOf('?')
    const pass = call()
    assert.equal(pass.setPath(target.slice(0, q)), 0, url)
    assert.equal(pass.setQuery(target.slice(q + 1)), 0, url)
  }
  assert.equal(normalizePath('/ok'), '/ok')
})
