// Generates large, valid native-ABI modules without a compiler: a minimal filter (memory,
// version marker, wafer_on_request) plus as many loop-and-branch functions as it
// takes to reach the size asked for, the shape a Go or Rust build has in bulk. Plain JS so the
// benchmarks (plain node) and the tests (tsx) share it; types in big-module.d.mts.

import { leb } from '../../packages/core/dist/wasm/reader.js'

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]


const name = (s) => { const b = [...Buffer.from(s, 'utf8')]; return [...leb(b.length), ...b] }
const section = (id, payload) => [id, ...leb(payload.length), ...payload]
const vector = (items) => [...leb(items.length), ...items.flat()]

/** One block/loop/if chunk (39 bytes): counts local 0 up past 100, multiplying now and then. */
function chunk (step) {
  return [
    0x02, 0x40, 0x03, 0x40, // block loop
    0x20, 0x00, 0x41, step, 0x6a, 0x22, 0x01, // local.tee 1 (local.get 0 + step)
    0x41, 0xe4, 0x00, 0x4a, 0x0d, 0x01, // br_if 1 (local 1 > 100)
    0x20, 0x01, 0x41, 0x03, 0x71, 0x04, 0x40, // if (local 1 & 3)
    0x20, 0x00, 0x41, 0x07, 0x6c, 0x21, 0x00, 0x0b, // local 0 *= 7
    0x20, 0x01, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b // local 0 = local 1; br 0; end end
  ]
}

const CHUNKS_PER_FUNCTION = 25

/**
 * A module of about `bytes` bytes. `marker` is the ABI export it declares (default
 * `wafer_abi_version_2`; `proxy_abi_version_0_2_1` makes one the host refuses). `seed` makes
 * modules of the same size distinct.
 */
export function bigModule ({ bytes, marker = 'wafer_abi_version_2', seed = 0 }) {
  const fillerBody = (i) => {
    const body = [0x01, 0x01, 0x7f] // one i32 local
    for (let c = 0; c < CHUNKS_PER_FUNCTION; c++) body.push(...chunk(((i + c + seed) % 60) + 1))
    body.push(0x20, 0x00, 0x0b)
    return [...leb(body.length), ...body]
  }
  const fillerSize = fillerBody(0).length
  const count = Math.max(1, Math.ceil((bytes - 200) / (fillerSize + 1)))
  // Types: () -> () for the marker, () -> i32 for wafer_on_request, (i32) -> i32 for the filler.
  const types = vector([[0x60, 0x00, 0x00], [0x60, 0x00, 0x01, 0x7f], [0x60, 0x01, 0x7f, 0x01, 0x7f]])
  const functions = vector([[0x00], [0x01], ...Array.from({ length: count }, () => [0x02])])
  const exports = vector([
    [...name('memory'), 0x02, 0x00],
    [...name(marker), 0x00, 0x00],
    [...name('wafer_on_request'), 0x00, 0x01]
  ])
  const bodies = [[0x02, 0x00, 0x0b], [0x04, 0x00, 0x41, 0x00, 0x0b]]
  const code = [...leb(2 + count), ...bodies.flat()]
  for (let i = 0; i < count; i++) code.push(...fillerBody(i))
  return Uint8Array.from([
    ...MAGIC,
    ...section(1, types),
    ...section(3, functions),
    ...section(5, [0x01, 0x00, 0x01]),
    ...section(7, exports),
    ...section(10, code)
  ])
}

/** `bytes` plus a custom section that makes it a distinct module (another sha256) that behaves the same. */
export function distinctCopy (bytes, tag) {
  const payload = [...name('wafer-distinct'), ...Buffer.from(String(tag), 'utf8')]
  return Uint8Array.from([...bytes, ...section(0, payload)])
}
