import { after, before } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, type RedisServer } from '../../../test/support/redis.ts'
import { storeContract } from '../../../test/support/store-contract.ts'
import { openStore } from './helpers.ts'

let redis: RedisServer
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

// A real server: real (short) TTLs, and a little slack for the time between calls.
storeContract('RedisStore', {
  ttlMs: 400,
  slackMs: 50,
  create: (t) => ({ store: openStore(t, { url: redis.url }), elapse: async (ms) => { await sleep(ms + 20) } })
})
