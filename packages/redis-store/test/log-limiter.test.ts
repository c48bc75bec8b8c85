import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LogLimiter } from '../src/log-limiter.ts'

test('a repeated line is let through once per interval, with how many were held back', () => {
  let now = 0
  const limiter = new LogLimiter(60_000, () => now)
  assert.equal(limiter.take('ECONNREFUSED'), 0)
  assert.equal(limiter.take('ECONNREFUSED'), undefined)
  now += 59_999
  assert.equal(limiter.take('ECONNREFUSED'), undefined)
  assert.equal(limiter.take('ETIMEDOUT'), 0, 'each key is limited on its own')
  now += 1
  assert.equal(limiter.take('ECONNREFUSED'), 2)
  assert.equal(limiter.take('ECONNREFUSED'), undefined)
})

test('reset lets the next occurrence of every key through at once', () => {
  const limiter = new LogLimiter(60_000, () => 0)
  limiter.take('a')
  assert.equal(limiter.take('a'), undefined)
  limiter.reset()
  assert.equal(limiter.take('a'), 0)
})
