import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'

const filter = (name) => fileURLToPath(new URL(`../filters/${name}/build/${name}.wasm`, import.meta.url))

/** The example gateway chain, as an app a test can also build and inject into. */
export async function build (options = {}) {
  const app = Fastify({ logger: options.logger ?? { level: 'info' } })
  await app.register(wafer, {
    filters: {
      'request-id': { module: filter('request-id') },
      auth: {
        module: filter('auth'),
        config: { mode: 'api-key', header: 'x-api-key', keys: ['demo-key', 'other-key'], subjects: ['demo', 'other'] }
      },
      rewrite: {
        module: filter('rewrite'),
        config: { prefix: { from: '/api/', to: '/internal/' }, setHeaders: { 'x-gateway': 'wafer' } }
      },
      'rate-limit': {
        module: filter('rate-limit'),
        // auth has removed the key by now; it tells who the client is in x-auth-subject.
        config: { algorithm: 'fixed-window', limit: options.limit ?? 5, windowMs: 60_000, key: 'header:x-auth-subject' }
      }
    },
    chains: { public: ['request-id'] },
    // Every route gets the full chain unless it says otherwise.
    chain: ['request-id', 'auth', 'rewrite', 'rate-limit']
  })

  // Fastify matched /api/* before the filters ran; the handler sees the rewritten URL.
  app.get('/api/*', async (request) => ({
    path: request.url,
    gateway: request.headers['x-gateway'],
    subject: request.headers['x-auth-subject'],
    requestId: request.headers['x-request-id']
  }))
  app.get('/health', { config: { wafer: { chain: 'public' } } }, async () => ({ ok: true }))
  return app
}
