import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from '../src/index.ts'

const invalid = (option: RegExp) => ({ code: 'WAFER_ERR_OPTIONS_INVALID', message: option })

test('invalid options are rejected with WAFER_ERR_OPTIONS_INVALID naming the option', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['redis://x', /RedisStore expected an options object, got "redis:\/\/x"/],
    [{ url: 6379 }, /"url" must be a string, got 6379/],
    [{ url: 'localhost:6379' }, /"url" must be a redis:\/\/ or rediss:\/\/ URL, got a localhost:\/\/ URL/],
    [{ url: 'not a url' }, /"url" must be a redis:\/\/ or rediss:\/\/ URL, got a string that is not a URL/],
    [{ url: 'http://127.0.0.1:6379' }, /"url" must be a redis:\/\/ or rediss:\/\/ URL, got a http:\/\/ URL/],
    [{ client: {} }, /"client" must be an ioredis client/],
    [{ client: 'redis://127.0.0.1' }, /"client" must be an ioredis client/],
    [{ keyPrefix: 5 }, /"keyPrefix" must be a string, got 5/],
    [{ timeoutMs: 0 }, /"timeoutMs" must be an integer from 1 to 2147483647 \(milliseconds\), got 0/],
    [{ timeoutMs: 1.5 }, /"timeoutMs" must be an integer/],
    [{ timeoutMs: '200' }, /"timeoutMs" must be an integer .*, got "200"/],
    [{ timeoutMs: 2 ** 31 }, /"timeoutMs" must be an integer from 1 to 2147483647/],
    [{ maxPending: -1 }, /"maxPending" must be a positive integer, got -1/],
    [{ logger: console.log }, /"logger" must be a pino-like logger with debug, info, warn, error methods, got a function/],
    [{ logger: { info: () => {} } }, /"logger" must be a pino-like logger/],
    [{ onError: 'metrics' }, /"onError" must be a function/],
    [{ sharedDataTimeoutMs: 0 }, /"sharedDataTimeoutMs" must be an integer from 1 to 1000 \(milliseconds: it blocks the event loop\), got 0/],
    [{ sharedDataTimeoutMs: 5000 }, /"sharedDataTimeoutMs" must be an integer from 1 to 1000/],
    [{ prefix: 'app:' }, /unknown option "prefix"; known options: url, client, keyPrefix, timeoutMs, maxPending, logger, onError, sharedDataTimeoutMs/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => new RedisStore(options as RedisStoreOptions), invalid(message), JSON.stringify(options))
  }
})

test('url and client together are rejected, and the given client is not touched', (t) => {
  const client = new Redis({ lazyConnect: true })
  t.after(() => { client.disconnect() })
  assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:6379', client }), invalid(/takes "url" or "client", not both/))
  assert.equal(client.status, 'wait')
})

test('an invalid URL is not echoed back, since it may hold a password', () => {
  assert.throws(() => new RedisStore({ url: 'redis//user:hunter2@host' }), (err: Error) => !err.message.includes('hunter2'))
  assert.throws(() => new RedisStore({ url: 'http://user:hunter2@host' }), (err: Error) => !err.message.includes('hunter2'))
})

test('undefined options take their defaults', async () => {
  // Nothing listens there in the tests; construction must not fail for that, only operations.
  const store = new RedisStore({ url: undefined, keyPrefix: undefined, timeoutMs: undefined, logger: undefined })
  await store.close()
})
