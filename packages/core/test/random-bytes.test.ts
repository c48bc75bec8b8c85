// The random-byte pool behind random_fill: every byte handed out once, across refills.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fillRandom } from '../src/abi/random-bytes.ts'

test('fillRandom: consecutive 16-byte fills differ, across several pool refills', () => {
  const seen = new Set<string>()
  const buf = Buffer.alloc(16)
  // 8 KB pool / 16 bytes = 512 fills per refill; 5000 fills cross about ten refills.
  for (let i = 0; i < 5000; i++) {
    buf.fill(0)
    fillRandom(buf, 0, 16)
    seen.add(buf.toString('hex'))
  }
  assert.equal(seen.size, 5000, 'a repeated 128-bit value means bytes were handed out twice')
})

test('fillRandom: writes only [offset, offset + len), large requests included', () => {
  for (const len of [1, 7, 16, 23, 24, 25, 26, 32, 100, 2048, 2049, 3000, 70_000]) {
    const buf = Buffer.alloc(len + 8, 0xee)
    fillRandom(buf, 4, len)
    assert.equal(buf[3], 0xee)
    assert.equal(buf[4 + len], 0xee)
    // The chance that a run of 100+ random bytes holds no value other than 0xee is nil.
    if (len >= 100) assert.ok(buf.subarray(4, 4 + len).some((b) => b !== 0xee))
  }
})

test('fillRandom: byte values are spread out (no stuck pool)', () => {
  const counts = new Array<number>(256).fill(0)
  const buf = Buffer.alloc(64)
  for (let i = 0; i < 2000; i++) {
    fillRandom(buf, 0, 64)
    for (const b of buf) counts[b] = (counts[b] as number) + 1
  }
  // 128,000 bytes: 500 expected per value; a fair source stays far inside [350, 650].
  for (const c of counts) assert.ok(c > 350 && c < 650, `a byte value came up ${c} times in 128,000`)
})

test('fillRandom: no byte handed out twice, for lengths on both sides of the copy loop (up to 24) and set', () => {
  // Fills of 1..40 bytes, written one after the other into one stream of about 200 KB (many
  // refills): a byte given twice shows as a repeated 12-byte run, which random bytes never make.
  const stream = Buffer.alloc(200_000)
  let at = 0
  for (let i = 0; at + 40 <= stream.length; i++) {
    const len = 1 + (i % 40)
    fillRandom(stream, at, len)
    at += len
  }
  const seen = new Set<string>()
  for (let i = 0; i + 12 <= at; i++) seen.add(stream.toString('latin1', i, i + 12))
  assert.equal(seen.size, at - 11, 'a 12-byte run repeated')
})

test('fillRandom: only [offset, offset + len) changes, at every length around the copy loop threshold', () => {
  const buf = Buffer.alloc(256)
  for (let len = 0; len <= 64; len++) {
    for (const offset of [0, 1, 100, 256 - len]) {
      buf.fill(0xee)
      fillRandom(buf, offset, len)
      for (let i = 0; i < buf.length; i++) {
        if (i < offset || i >= offset + len) assert.equal(buf[i], 0xee, `${len} bytes at ${offset}: byte ${i} changed`)
      }
      // 16 random bytes all equal to 0xee: a chance of 2^-128.
      if (len >= 16) assert.ok(buf.subarray(offset, offset + len).some((b) => b !== 0xee), `${len} bytes at ${offset}: not filled`)
    }
  }
})
