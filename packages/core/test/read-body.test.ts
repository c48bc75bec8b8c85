// Reading a body for filters that need it (http/read-body.ts), the one reader both adapters use.
import assert from 'node:assert/strict'
import { PassThrough, Readable } from 'node:stream'
import { test } from 'node:test'
import { readBody, WaferError, type BodyResult } from '../src/index.ts'

const tooLarge = (): WaferError => new WaferError('WAFER_ERR_BODY_TOO_LARGE', [4])

function read (stream: Readable, options: Partial<Parameters<typeof readBody>[2]> = {}, limit = 4): Promise<BodyResult> {
  return new Promise((resolve) => { readBody(stream, limit, { tooLarge, ...options }, resolve) })
}

test('the whole body, strings and buffers alike', async () => {
  assert.deepEqual(await read(Readable.from(['ab', Buffer.from('cd')])), { body: Buffer.from('abcd') })
  assert.deepEqual(await read(Readable.from([])), { body: Buffer.alloc(0) })
})

test('one chunk is the body as is; several are joined in order', async () => {
  const one = Buffer.from('abc')
  const single = await read(Readable.from([one]))
  assert.ok('body' in single)
  assert.equal(single.body, one, 'a single chunk is not copied')
  const parts = [Buffer.from('a'), Buffer.from('bc'), Buffer.from('d')]
  const joined = await read(Readable.from(parts))
  assert.ok('body' in joined)
  assert.deepEqual(joined.body, Buffer.from('abcd'))
  assert.ok(parts.every((p) => p !== joined.body))
  // A single string chunk is encoded once, as UTF-8.
  assert.deepEqual(await read(Readable.from(['é'], { objectMode: false })), { body: Buffer.from('é') })
})

test('over the limit: the coded error, and the rest is drained rather than kept', async () => {
  const stream = new PassThrough()
  const result = read(stream)
  stream.write('abc')
  stream.write('de')
  const r = await result
  assert.ok('tooLarge' in r)
  assert.equal(r.tooLarge.code, 'WAFER_ERR_BODY_TOO_LARGE')
  stream.end('more')
  assert.equal(stream.readableFlowing, true, 'still flowing: a client can finish sending')
})

test('a declared length over the limit is refused before anything is read', async () => {
  const stream = new PassThrough()
  const r = await read(stream, { declared: '5' })
  assert.ok('tooLarge' in r)
  assert.equal(stream.readableFlowing, true)
})

test('an error, or a close before the end, aborts', async () => {
  const failing = new PassThrough()
  const failed = read(failing)
  failing.destroy(new Error('ECONNRESET'))
  const r = await failed
  assert.ok('aborted' in r)
  assert.equal(r.aborted?.message, 'ECONNRESET')

  const closing = new PassThrough()
  const closed = read(closing)
  closing.write('ab')
  closing.destroy()
  assert.deepEqual(await closed, { aborted: undefined })
})

test('afterClose: the body is handed over once the stream has closed, not at its end', async () => {
  const stream = new PassThrough()
  const events: string[] = []
  stream.on('close', () => { events.push('close') })
  const result = read(stream, { afterClose: true }).then((r) => { events.push('body'); return r })
  stream.end('ab')
  assert.deepEqual(await result, { body: Buffer.from('ab') })
  assert.deepEqual(events, ['close', 'body'])
})
