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
