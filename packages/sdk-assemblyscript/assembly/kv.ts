// The host's key-value store (docs/abi.md sections 4 and 6). Each operation passes the host
// a 24-byte result record. When the store answers at once (the in-memory store always does) the
// import returns 0 with the record filled, and the call returns the result: kv.incr() returns
// the counter, kv.get() the value. When the store answers later (Redis) the import returns a
// token: kv.pending() is true, the filter returns Action.Pause, and the result arrives in
// Filter.onKvResult(token, result). Keys live in the filter's own namespace on the host.
import { TOO_LARGE, UNAVAILABLE } from "./abi";
import { ByteBuffer } from "./bytes";
import { hostKvDel, hostKvGet, hostKvIncr, hostKvSet } from "./host";
import { nameBuffer, valueBuffer } from "./scratch";
import { putUtf8, putUtf8Name } from "./text";

const RECORD_SIZE: usize = 24;
// The host's limit on a value: a kv_get buffer this big always holds the whole value, which an
// asynchronous result needs (it cannot be read again).
const MAX_VALUE: i32 = 65536;
const FREE: i32 = 0;
const DELIVERING: i32 = -1;

/** A result's `status`. */
export enum KvStatus {
  Ok = 0,
  /** get: the key is absent or expired; del: the key was absent. */
  NotFound = 1
}

// One operation's record and kv_get buffer. An operation holds its slot until its result is
// delivered; slots are made when more operations are in flight than ever before, then reused.
class Slot {
  record: usize = heap.alloc(RECORD_SIZE);
  buf: usize = 0;
  token: i32 = FREE;

  getBuffer(): usize {
    if (this.buf == 0) this.buf = heap.alloc(<usize>MAX_VALUE);
    return this.buf;
  }
}

const slots = new Array<Slot>(0);

function freeSlot(): Slot {
  for (let i = 0; i < slots.length; i++) {
    const s = unchecked(slots[i]);
    if (s.token == FREE) return s;
  }
  const s = new Slot();
  slots.push(s);
  return s;
}

/** The result of a kv operation: the last one started, or the one onKvResult delivers. */
export class KvResult {
  /** > 0 while the store has not answered yet (the filter must return Action.Pause). */
  token: i32 = 0;
  /** KvStatus.Ok, or KvStatus.NotFound (get: absent; del: there was none). */
  status: i32 = KvStatus.Ok;
  /** incr: the counter after the increment. */
  value: f64 = 0;
  /** incr: milliseconds until the counter expires; -1 if it never does. */
  ttlMs: f64 = -1;
  /** get: the value's length in bytes. */
  length: i32 = 0;
  dataPtr: usize = 0;

  get pending(): bool {
    return this.token > 0;
  }

  get found(): bool {
    return this.token <= 0 && this.status == KvStatus.Ok;
  }

  /** get: the value as UTF-8 text ("" when absent). Valid until the next kv call. */
  text(): string {
    return this.length > 0 ? String.UTF8.decodeUnsafe(this.dataPtr, <usize>this.length) : "";
  }

  /** get: a copy of the value's bytes. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    if (this.length > 0) memory.copy(out.dataStart, this.dataPtr, <usize>this.length);
    return out;
  }

  read(slot: Slot, token: i32): void {
    const r = slot.record;
    this.token = token;
    if (token > 0) {
      this.status = KvStatus.Ok;
      this.value = NaN;
      this.ttlMs = -1;
      this.length = 0;
      return;
    }
    this.status = load<i32>(r);
    this.length = load<i32>(r, 4);
    this.value = load<f64>(r, 8);
    this.ttlMs = load<f64>(r, 16);
    this.dataPtr = slot.buf;
    if (this.length > MAX_VALUE) this.length = 0; // cannot happen: the host's limit
  }
}

const last = new KvResult();

// Records what the import returned. A refusal that does nothing (a key or value too large, a
// call from configure()) would leave the filter waiting forever, so it stops here with a
// message; a result that fails the call (a bad pointer, over budget) is left for the host.
function started(op: string, rc: i32, slot: Slot): void {
  if (rc == TOO_LARGE) abort("kv." + op + ": the key (at most 512 bytes) or the value (at most 65536) is too large");
  if (rc == UNAVAILABLE) abort("kv." + op + " is only available while handling a request");
  if (rc > 0) slot.token = rc;
  if (rc >= 0) {
    last.read(slot, rc);
  } else {
    last.token = 0;
    last.status = KvStatus.NotFound;
    last.value = NaN;
    last.length = 0;
  }
}

function getInto(key: string): void {
  const keyLen = putUtf8Name(key);
  const slot = freeSlot();
  started("get", hostKvGet(nameBuffer(0), keyLen, slot.getBuffer(), MAX_VALUE, slot.record), slot);
}

export namespace kv {
  /**
   * The value at `key` as UTF-8 text, or null when absent. Also null while the store has not
   * answered: check kv.pending().
   */
  export function get(key: string): string | null {
    getInto(key);
    return last.found ? last.text() : null;
  }

  /** Like get(), as bytes. */
  export function getBytes(key: string): Uint8Array | null {
    getInto(key);
    return last.found ? last.bytes() : null;
  }

  /** Stores a string (as UTF-8) or a Uint8Array; `ttlMs` 0 means no expiry. */
  export function set<T>(key: string, value: T, ttlMs: i32 = 0): void {
    const keyLen = putUtf8Name(key);
    const slot = freeSlot();
    if (isString<T>()) {
      const n = putUtf8(changetype<string>(value));
      started("set", hostKvSet(nameBuffer(0), keyLen, valueBuffer(0), n, ttlMs, slot.record), slot);
    } else if (value instanceof Uint8Array) {
      const bytes = changetype<Uint8Array>(value);
      started("set", hostKvSet(nameBuffer(0), keyLen, bytes.dataStart, bytes.length, ttlMs, slot.record), slot);
    } else {
      ERROR("kv.set: the value must be a string or a Uint8Array");
    }
  }

  /**
   * Atomically adds `delta` to the counter at `key` (created at 0 if absent) and returns the
   * new value; `ttlMs` applies only when the key is created (a fixed window), and
   * kv.result().ttlMs says how long the counter has left. NaN while the store has not
   * answered: check kv.pending().
   */
  export function incr(key: string, delta: i32 = 1, ttlMs: i32 = 0): f64 {
    const keyLen = putUtf8Name(key);
    const slot = freeSlot();
    started("incr", hostKvIncr(nameBuffer(0), keyLen, delta, ttlMs, slot.record), slot);
    return last.value;
  }

  /** Like incr(), with the key's bytes (built in a ByteBuffer): no string, no encoding. */
  export function incrBytes(key: ByteBuffer, delta: i32 = 1, ttlMs: i32 = 0): f64 {
    const slot = freeSlot();
    started("incr", hostKvIncr(key.dataStart, key.length, delta, ttlMs, slot.record), slot);
    return last.value;
  }

  /** Deletes `key`; true if it existed (false too while pending: check kv.pending()). */
  export function del(key: string): bool {
    const keyLen = putUtf8Name(key);
    const slot = freeSlot();
    started("del", hostKvDel(nameBuffer(0), keyLen, slot.record), slot);
    return last.found;
  }

  /**
   * True if the store answers the last operation later: return Action.Pause (after starting
   * any others), and the result arrives in onKvResult with kv.token() as its token.
   */
  export function pending(): bool {
    return last.token > 0;
  }

  /** The last operation's token while it is pending, else 0. */
  export function token(): i32 {
    return last.token;
  }

  /** The last operation's full result (status, value, ttlMs, text()). Valid until the next kv call. */
  export function result(): KvResult {
    return last;
  }
}

let delivering: Slot | null = null;

/** Fills the result of the operation `token` for onKvResult; null if no such operation is pending. */
export function kvDeliver(token: i32): KvResult | null {
  for (let i = 0; i < slots.length; i++) {
    const s = unchecked(slots[i]);
    if (s.token != token) continue;
    s.token = DELIVERING; // its buffer holds the result until onKvResult returns
    delivering = s;
    last.read(s, 0);
    return last;
  }
  return null;
}

export function kvDelivered(): void {
  const s = delivering;
  if (s != null) s.token = FREE;
  delivering = null;
}

/** A new phase: results still pending from an earlier one are never delivered. */
export function kvResetPhase(): void {
  for (let i = 0; i < slots.length; i++) unchecked(slots[i]).token = FREE;
  delivering = null;
}
