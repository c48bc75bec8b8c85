// The host's key-value store (docs/abi.md sections 3 and 6). Every operation returns a token
// at once; the filter returns Action.Pause and the result arrives in onKvResult(token, status,
// data). Keys live in the filter's own namespace on the host.
import { hostKvDel, hostKvGet, hostKvIncr, hostKvSet } from "./host";
import { decodeNumber, findMember } from "./json-scan";

/** The `status` passed to onKvResult. */
export enum KvStatus {
  Ok = 0,
  /** get: the key is absent or expired; del: the key was absent. */
  NotFound = 1
}

// The host refuses bad calls with a negative code (-1 bad pointer, -2 value too large, -3 no
// request active, e.g. in configure()); pausing on one would wait forever, so stop here with
// a message instead.
function checked(op: string, token: i32): i32 {
  if (token <= 0) abort("kv." + op + " was refused by the host (code " + token.toString() + ")");
  return token;
}

export namespace kv {
  /** Starts a read; the value arrives as onKvResult's `data` (status NotFound when absent). */
  export function get(key: string): i32 {
    const k = String.UTF8.encode(key);
    return checked("get", hostKvGet(changetype<usize>(k), k.byteLength));
  }

  /** Starts a write of a string or Uint8Array value; `ttlMs` 0 means no expiry. */
  export function set<T>(key: string, value: T, ttlMs: f64 = 0): i32 {
    const k = String.UTF8.encode(key);
    if (isString<T>()) {
      const v = String.UTF8.encode(changetype<string>(value));
      return checked("set", hostKvSet(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength, ttlMs));
    } else if (value instanceof Uint8Array) {
      const bytes = changetype<Uint8Array>(value);
      return checked("set", hostKvSet(changetype<usize>(k), k.byteLength, bytes.dataStart, bytes.length, ttlMs));
    } else {
      ERROR("kv.set: the value must be a string or a Uint8Array");
      return 0;
    }
  }

  /**
   * Starts an atomic add of `delta` (an integer) to the counter at `key`, created at 0 if
   * absent; `ttlMs` applies only when the key is created (a fixed window). Decode the result
   * with KvCounter.parse(data).
   */
  export function incr(key: string, delta: f64 = 1, ttlMs: f64 = 0): i32 {
    const k = String.UTF8.encode(key);
    return checked("incr", hostKvIncr(changetype<usize>(k), k.byteLength, delta, ttlMs));
  }

  /** Starts a delete; status NotFound if the key was absent. */
  export function del(key: string): i32 {
    const k = String.UTF8.encode(key);
    return checked("del", hostKvDel(changetype<usize>(k), k.byteLength));
  }

  /** A result's bytes as UTF-8 text. */
  export function text(data: Uint8Array): string {
    return String.UTF8.decodeUnsafe(data.dataStart, data.length);
  }
}

/** The result of kv.incr: `{"value":<integer>,"ttlMs":<integer>}`. */
export class KvCounter {
  /** The counter's new value. */
  value: f64 = 0;
  /** Milliseconds left before the key expires; -1 if it never does. */
  ttlMs: f64 = -1;

  static parse(data: Uint8Array): KvCounter {
    const c = new KvCounter();
    const start = data.dataStart;
    const end = start + <usize>data.length;
    const v = findMember(start, end, "value", false);
    if (v != 0) c.value = decodeNumber(v, end);
    const t = findMember(start, end, "ttlMs", false);
    if (t != 0) c.ttlMs = decodeNumber(t, end);
    return c;
  }
}
