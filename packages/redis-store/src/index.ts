export { RedisStore } from './redis-store.js'
export { RedisStoreError, type RedisStoreFailure } from './redis-store-error.js'
export { defaultRedisStoreOptions, type RedisStoreOptions } from './options.js'
