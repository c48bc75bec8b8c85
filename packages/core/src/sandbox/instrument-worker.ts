// A worker thread that instruments modules (binaryen is CPU-heavy and synchronous): the main
// thread keeps serving while modules are prepared, and several prepare at once on several cores.
// Protocol: { id, bytes, options } in, `options` an InstrumentOptions as plain data (the budget
// entries an array of export names, which the structured clone carries as they are); { id, bytes }
// or { id, error } out. The output depends on nothing else. See instrument-pool.ts.
import { parentPort } from 'node:worker_threads'
import { instrumentModule, type InstrumentOptions } from './instrument.js'

export interface InstrumentTask {
  id: number
  bytes: Uint8Array
  options: InstrumentOptions
}

export type InstrumentReply = { id: number, bytes: Uint8Array<ArrayBuffer> } | { id: number, error: string }

const port = parentPort
if (port === null) throw new Error('instrument-worker.js runs as a worker thread (see instrument-pool.ts)')

port.on('message', (task: InstrumentTask) => {
  instrumentModule(task.bytes, task.options).then(({ bytes }) => {
    // A buffer of its own, so transferring it cannot detach memory binaryen still uses.
    const out = new Uint8Array(bytes)
    port.postMessage({ id: task.id, bytes: out } satisfies InstrumentReply, [out.buffer])
  }, (err: unknown) => {
    port.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) } satisfies InstrumentReply)
  })
})
