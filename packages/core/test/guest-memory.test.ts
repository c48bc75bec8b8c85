import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GuestMemory } from '../src/abi/guest-memory.ts'

function memoryWith (bytes: number[]): GuestMemory {
  const memory = new WebAssembly.Memory({ initial: 1 })
  new Uint8Array(memory.buffer).set(bytes, 100)
  const mem = new GuestMemory()
  mem.attach(memory)
  return mem
}

test('fieldValue decodes a header value and checks it in one pass (RFC 9110 field-value)', () => {
  const ok = [0x61, 0x20, 0x09, 0x7e, 0x80, 0xff]
  assert.equal(memoryWith(ok).fieldValue(100, ok.length), 'a \t~\u0080\u00ff')
  for (const bad of [0x00, 0x0a, 0x0d, 0x1f, 0x7f]) {
    assert.equal(memoryWith([0x61, bad, 0x62]).fieldValue(100, 3), undefined, `byte 0x${bad.toString(16)}`)
  }
  const long = Array.from({ length: 100 }, (_, i) => 0x41 + (i % 26))
  assert.equal(memoryWith(long).fieldValue(100, long.length), String.fromCharCode(...long), 'a long value takes the Buffer path')
  assert.equal(memoryWith([...long, 0x7f]).fieldValue(100, long.length + 1), undefined)
  assert.equal(memoryWith([]).fieldValue(100, 0), '')
})

test('headerName: the same name from a new address is found by its bytes; a changed name is read again', () => {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const bytes = new Uint8Array(memory.buffer)
  const mem = new GuestMemory()
  mem.attach(memory)
  const put = (at: number, s: string): void => { bytes.set(Buffer.from(s, 'latin1'), at) }
  put(1000, 'X-Api-Key')
  const first = mem.headerName(1000, 9)
  assert.equal(first, 'x-api-key')
  put(5003, 'x-API-key')
  assert.equal(mem.headerName(5003, 9), first, 'found at another address, lower-cased')
  put(5003, 'x-api-kez')
  assert.equal(mem.headerName(5003, 9), 'x-api-kez', 'the bytes changed under a cached address')
  put(7000, 'bad name')
  assert.equal(mem.headerName(7000, 8), undefined, 'not a token')
})

test('latin1 and fieldValue decode every length the same as Buffer does (one call per length up to 16, then the helper)', () => {
  const all = Array.from({ length: 300 }, (_, i) => 0x20 + ((i * 37) % 0xe0))
  const mem = memoryWith(all)
  const reference = Buffer.from(all)
  for (let len = 0; len <= 297; len++) {
    for (const at of [0, 3]) {
      const expected = reference.toString('latin1', at, at + len)
      assert.equal(mem.latin1(100 + at, len), expected, `latin1, ${len} bytes at +${at}`)
      const value = mem.fieldValue(100 + at, len)
      assert.equal(value, /\x7f/.test(expected) ? undefined : expected, `fieldValue, ${len} bytes at +${at}`)
    }
  }
})

test('headerName: a cached name is checked against every byte, whatever its length, at the same address', () => {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const bytes = new Uint8Array(memory.buffer)
  const mem = new GuestMemory()
  mem.attach(memory)
  const put = (at: number, s: string): void => { bytes.set(Buffer.from(s, 'latin1'), at) }
  for (let len = 1; len <= 40; len++) {
    const name = Array.from({ length: len }, (_, i) => String.fromCharCode(0x61 + ((i + len) % 26))).join('')
    put(2000, name)
    assert.equal(mem.headerName(2000, len), name, `${len} bytes`)
    assert.equal(mem.headerName(2000, len), name, `${len} bytes, cached`)
    // One byte changed, at each position in turn: never the cached name.
    for (let i = 0; i < len; i++) {
      const changed = `${name.slice(0, i)}-${name.slice(i + 1)}`
      put(2000, changed)
      assert.equal(mem.headerName(2000, len), changed, `${len} bytes, byte ${i} changed`)
      put(2000, name)
      assert.equal(mem.headerName(2000, len), name, `${len} bytes, byte ${i} back`)
    }
    // Another case of the same name at the same address: the same lower-cased name.
    put(2000, name.toUpperCase())
    assert.equal(mem.headerName(2000, len), name, `${len} bytes, upper case`)
  }
})

test('headerName: after memory.grow (a new buffer) names are still read from the current bytes', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 })
  const mem = new GuestMemory()
  mem.attach(memory)
  new Uint8Array(memory.buffer).set(Buffer.from('x-first-name'), 3000)
  assert.equal(mem.headerName(3000, 12), 'x-first-name')
  memory.grow(1)
  new Uint8Array(memory.buffer).set(Buffer.from('x-other-name'), 3000)
  // The glue checks bounds first, which refreshes the view.
  assert.equal(mem.inBounds(3000, 12), true)
  assert.equal(mem.headerName(3000, 12), 'x-other-name')
  assert.equal(mem.inBounds(65536 + 10, 12), true, 'the grown page is in bounds')
})

test('writeRecord writes status, length, value and ttl little-endian, also after memory.grow', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 })
  const mem = new GuestMemory()
  mem.attach(memory)
  mem.writeRecord(64, -3, 7, 1.5, 60000)
  let b = Buffer.from(memory.buffer)
  assert.deepEqual([b.readInt32LE(64), b.readInt32LE(68), b.readDoubleLE(72), b.readDoubleLE(80)], [-3, 7, 1.5, 60000])
  memory.grow(1)
  mem.writeRecord(65536 + 8, 1, 0, 2 ** 53, -1)
  b = Buffer.from(memory.buffer)
  assert.deepEqual([b.readInt32LE(65544), b.readInt32LE(65548), b.readDoubleLE(65552), b.readDoubleLE(65560)], [1, 0, 2 ** 53, -1])
})

test('latin1 decodes every byte value 0x00-0xff like Buffer does, at every length up to 300', () => {
  const all = Array.from({ length: 320 }, (_, i) => (i * 7) & 0xff)
  const mem = memoryWith(all)
  const reference = Buffer.from(all)
  for (let len = 0; len <= 300; len++) {
    assert.equal(mem.latin1(100 + 5, len), reference.toString('latin1', 5, 5 + len), `${len} bytes`)
  }
})

test('writeLatin1: the loop (up to 24 characters) and the encoder (above) write the same bytes, only when they fit', () => {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const bytes = new Uint8Array(memory.buffer)
  const mem = new GuestMemory()
  mem.attach(memory)
  for (let n = 0; n <= 130; n++) {
    // Characters 0x80-0xff included: one byte each, never UTF-8.
    const s = Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 53 + n) % 0xe0))).join('')
    const expected = Buffer.from(s, 'latin1')
    bytes.fill(0xee, 0, 400)
    assert.equal(mem.writeLatin1(s, 100, n), n, `${n} chars, fits exactly`)
    assert.deepEqual(Buffer.from(bytes.subarray(100, 100 + n)), expected, `${n} chars written`)
    assert.ok(bytes.subarray(0, 100).every((b) => b === 0xee), `${n} chars: nothing before`)
    assert.ok(bytes.subarray(100 + n, 400).every((b) => b === 0xee), `${n} chars: nothing after`)
    if (n === 0) continue
    bytes.fill(0xee, 0, 400)
    assert.equal(mem.writeLatin1(s, 100, n - 1), n, `${n} chars, one too long: the full length`)
    assert.ok(bytes.subarray(0, 400).every((b) => b === 0xee), `${n} chars, one too long: nothing written`)
  }
  const high = Array.from({ length: 128 }, (_, i) => String.fromCharCode(0x80 + i)).join('')
  for (const n of [24, 25, 33, 128]) {
    assert.equal(mem.writeLatin1(high.slice(0, n), 2000, n), n)
    assert.deepEqual([...bytes.subarray(2000, 2000 + n)], Array.from({ length: n }, (_, i) => 0x80 + i), `0x80-0xff, ${n} chars`)
  }
})
