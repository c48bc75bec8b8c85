// Limits how many requests a client may make, with a fixed window (one atomic kv.incr per
// request) or a token bucket (kv.get then kv.set). Allowed requests get the RateLimit-* headers
// on their response (set from the request phase with setResponseHeader, so no response phase
// runs); denied requests get a 429 with Retry-After. With the in-memory store every kv call
// answers at once; with a remote one it is pending, the phase pauses, and onKvResult goes on.
import {
  Action, ByteBuffer, Config, Filter, kv, KvResult, now, registerFilter, Request, currentRequest, sha256Into
} from "@wafer/sdk-assemblyscript";
import { FIXED_WINDOW, Options, readOptions } from "./options";
export * from "@wafer/sdk-assemblyscript/assembly/exports-request";
// The host allows keys up to 512 bytes; longer client ids (a huge header) are hashed.
const MAX_ID_BYTES = 256;

// The fixed-window path allocates nothing per request: the key is built in KEY (the client id
// read straight into it), the counter's headers are formatted in NUMBER.
const KEY = new ByteBuffer(128);
const ID = new ByteBuffer(128);
const NUMBER = new ByteBuffer(24);
const DIGEST = new Uint8Array(32);

// True if every byte is ASCII: the host decodes other keys as UTF-8, where two different
// invalid sequences could read as the same key.
function ascii(b: ByteBuffer): bool {
  const p = b.dataStart;
  for (let i = 0; i < b.length; i++) if (load<u8>(p + <usize>i) >= 0x80) return false;
  return true;
}

function ceilSeconds(ms: f64): i64 {
  return <i64>Math.ceil(ms / 1000);
}

// Token-bucket request in flight: a paused instance serves only this request (abi.md section 6).
let bucketKey = "";
let bucketTokens: f64 = 0;
let bucketSetToken: i32 = 0;

class RateLimit extends Filter {
  o: Options = new Options();

  name(): string {
    return "rate-limit";
  }

  configure(config: Config): string | null {
    return readOptions(config, this.o);
  }

  onRequest(req: Request): Action {
    if (this.o.algorithm == FIXED_WINDOW) {
      this.clientKey(req, KEY.clear().appendLatin1("fw:"));
      const count = kv.incrBytes(KEY, 1, <i32>this.o.windowMs);
      if (kv.pending()) return Action.Pause;
      return this.fixedWindow(req, count, kv.result().ttlMs);
    }
    bucketKey = this.clientKey(req, KEY.clear().appendLatin1("tb:")).toString();
    bucketSetToken = 0;
    const state = kv.get(bucketKey);
    if (kv.pending()) return Action.Pause;
    return this.takeToken(req, state);
  }

  onKvResult(token: i32, result: KvResult): Action {
    const req = currentRequest();
    if (this.o.algorithm == FIXED_WINDOW) return this.fixedWindow(req, result.value, result.ttlMs);
    if (token == bucketSetToken) return this.allowBucket(req);
    return this.takeToken(req, result.found ? result.text() : null);
  }

  /** Appends the client's id to `out`: "h:<header>", or "ip:<address>" without the header. */
  private clientKey(req: Request, out: ByteBuffer): ByteBuffer {
    ID.clear();
    // Without the header, fall back to the address so such clients still share one limit.
    if (this.o.keyHeader.length == 0 || !req.headerInto(this.o.keyHeader, ID.appendLatin1("h:"))) {
      ID.clear().appendLatin1("ip:").appendLatin1(req.remoteAddress);
    }
    if (ID.length <= MAX_ID_BYTES && ascii(ID)) return out.append(ID);
    sha256Into(ID, DIGEST);
    return out.appendLatin1("sha256:").appendHex(DIGEST);
  }

  private fixedWindow(req: Request, count: f64, ttlMs: f64): Action {
    const limit = this.o.limit;
    const resetMs = ttlMs >= 0 ? ttlMs : this.o.windowMs;
    if (count > limit) return this.deny(req, limit, resetMs, resetMs);
    return this.allow(req, limit, limit - count, resetMs);
  }

  // Token bucket, step 1: the stored state "tokens,lastRefillMs" (or null: a full bucket).
  private takeToken(req: Request, state: string | null): Action {
    const o = this.o;
    const t = now();
    let tokens = o.burst;
    if (state != null) {
      const parts = state.split(",");
      if (parts.length == 2) {
        const stored = parseFloat(parts[0]);
        const last = parseFloat(parts[1]);
        if (isFinite(stored) && isFinite(last)) {
          tokens = Math.min(o.burst, stored + (Math.max(0, t - last) * o.refillPerSecond) / 1000);
        }
      }
    }
    if (tokens < 1) {
      bucketTokens = tokens;
      return this.deny(req, o.burst, ((1 - tokens) / o.refillPerSecond) * 1000, this.bucketResetMs());
    }
    bucketTokens = tokens - 1;
    // Once the bucket would be full again the state is redundant, so let it expire then (a
    // refill too slow for the store's 32-bit TTL keeps it instead).
    const ttl = Math.ceil((o.burst / o.refillPerSecond) * 1000);
    kv.set(bucketKey, bucketTokens.toString() + "," + t.toString(), ttl <= <f64>i32.MAX_VALUE ? <i32>ttl : 0);
    if (kv.pending()) {
      bucketSetToken = kv.token();
      return Action.Pause; // step 2 once the write is confirmed
    }
    return this.allowBucket(req);
  }

  // Token bucket, step 2: the state is written.
  private allowBucket(req: Request): Action {
    return this.allow(req, this.o.burst, Math.floor(bucketTokens), this.bucketResetMs());
  }

  private bucketResetMs(): f64 {
    return ((this.o.burst - bucketTokens) / this.o.refillPerSecond) * 1000;
  }

  private allow(req: Request, limit: f64, remaining: f64, resetMs: f64): Action {
    req.setResponseHeaderBytes("ratelimit-limit", NUMBER.clear().appendDecimal(<i64>limit));
    req.setResponseHeaderBytes("ratelimit-remaining", NUMBER.clear().appendDecimal(<i64>Math.max(0, remaining)));
    req.setResponseHeaderBytes("ratelimit-reset", NUMBER.clear().appendDecimal(ceilSeconds(Math.max(0, resetMs))));
    return Action.Continue;
  }

  private deny(req: Request, limit: f64, retryMs: f64, resetMs: f64): Action {
    let retryAfter = ceilSeconds(retryMs);
    if (retryAfter < 1) retryAfter = 1;
    const reset = ceilSeconds(Math.max(0, resetMs));
    const body = "{\"error\":\"rate limit exceeded\",\"retryAfter\":" + retryAfter.toString() + "}";
    return req.respondJson(429, body, [
      ["retry-after", retryAfter.toString()],
      ["ratelimit-limit", (<i64>limit).toString()],
      ["ratelimit-remaining", "0"],
      ["ratelimit-reset", reset.toString()]
    ]);
  }
}

registerFilter(new RateLimit());
