// until() once returned an async check's promise at once (a promise is neither undefined nor
// false), so a poll with an async check never polled: it passed before the condition held.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { until } from '../support/index.ts'

test('until awaits an async check and polls until it resolves to an answer', async () => {
  let calls = 0
  const value = await until('the third poll', async () => {
    calls++
    await new Promise((resolve) => setImmediate(resolve))
    return calls >= 3 ? 'ready' : false
  }, 2000, 1)
  assert.equal(value, 'ready')
  assert.equal(calls, 3)
})

test('until times out on an async check that never answers', async () => {
  await assert.rejects(until('nothing', async () => undefined, 50, 5), /timed out waiting for nothing/)
})
