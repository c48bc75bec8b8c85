/**
 * Proxy-Wasm shared queues (docs/proxy-wasm.md, "Shared queues"): one registry per Wafer
 * runtime, created by runtime/wafer.ts and lent to every instance through `GuestHost#queues`.
 * A queue is named by (VM id, name), as in Envoy, and outlives reloads and the instances that
 * registered it; its token stays the same for the life of the runtime.
 */

/** Most messages a queue holds; an enqueue to a full queue is refused (docs/proxy-wasm.md). */
export const QUEUE_MAX_LENGTH = 10_000

/** A root context that registered a queue: it gets `proxy_on_queue_ready` when one arrives. */
export interface QueueReceiver {
  /** Schedules `proxy_on_queue_ready(root, token)` on the receiver; never runs guest code at once. */
  queueReady: (token: number) => void
}

interface Queue {
  readonly vmId: string
  readonly name: string
  readonly items: Buffer[]
  /** In registration order; the first is notified. An instance that closes leaves the list. */
  readonly receivers: QueueReceiver[]
}

/** What an enqueue did: delivered (OK), no such queue, or the queue is full. */
export type EnqueueResult = 'ok' | 'not-found' | 'full'

export class SharedQueues {
  readonly #byKey = new Map<string, number>()
  readonly #byToken = new Map<number, Queue>()
  #nextToken = 1

  /**
   * Registers `receiver` for the queue (vmId, name), creating it if needed, and returns its
   * token. Every instance of a filter registers the same queue and gets the same token; the
   * oldest receiver still alive is the one notified (Envoy notifies the first registrant).
   */
  register (vmId: string, name: string, receiver: QueueReceiver): number {
    const key = queueKey(vmId, name)
    let token = this.#byKey.get(key)
    if (token === undefined) {
      token = this.#nextToken++
      this.#byKey.set(key, token)
      this.#byToken.set(token, { vmId, name, items: [], receivers: [] })
    }
    const queue = this.#byToken.get(token) as Queue
    if (!queue.receivers.includes(receiver)) {
      queue.receivers.push(receiver)
      // Messages that arrived while nobody received them (between a reload's instances).
      if (queue.receivers.length === 1 && queue.items.length > 0) receiver.queueReady(token)
    }
    return token
  }

  /** The token of the queue (vmId, name), or undefined when nobody registered it. */
  resolve (vmId: string, name: string): number | undefined {
    return this.#byKey.get(queueKey(vmId, name))
  }

  /** Appends a message and notifies the queue's receiver (asynchronously). */
  enqueue (token: number, data: Buffer): EnqueueResult {
    const queue = this.#byToken.get(token)
    if (queue === undefined) return 'not-found'
    if (queue.items.length >= QUEUE_MAX_LENGTH) return 'full'
    queue.items.push(data)
    queue.receivers[0]?.queueReady(token)
    return 'ok'
  }

  /**
   * The oldest message, taken off the queue; `undefined` when it is empty, `null` when there is
   * no such queue in VM `vmId` (only a VM's own filters dequeue from its queues, as in Envoy).
   */
  dequeue (token: number, vmId: string): Buffer | undefined | null {
    const queue = this.#byToken.get(token)
    if (queue === undefined || queue.vmId !== vmId) return null
    return queue.items.shift()
  }

  /** Whether `receiver` registered any queue: something could resume a request it paused. */
  receives (receiver: QueueReceiver): boolean {
    for (const q of this.#byToken.values()) if (q.receivers.includes(receiver)) return true
    return false
  }

  /** The receiver is gone (its instance closed): it is notified no more. */
  leave (receiver: QueueReceiver): void {
    for (const q of this.#byToken.values()) {
      const i = q.receivers.indexOf(receiver)
      if (i !== -1) q.receivers.splice(i, 1)
    }
  }

  /** Messages waiting in the queue, for tests and status. */
  size (token: number): number {
    return this.#byToken.get(token)?.items.length ?? 0
  }
}

function queueKey (vmId: string, name: string): string {
  return `${vmId}\0${name}`
}
