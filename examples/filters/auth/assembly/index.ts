// Authenticates requests with an API key header or an HS256 JWT bearer token. On success the
// route sees `x-auth-subject` and no credential; on failure the client gets a 401.
import {
  Action, ByteBuffer, Config, Filter, isHeaderName, isHeaderValue, now, registerFilter, Request, jsonString
} from "@wafer/sdk-assemblyscript";
import { JwtOptions, verifyJwt } from "./jwt";
export * from "@wafer/sdk-assemblyscript/assembly/exports-request";

const MODE_API_KEY: i32 = 0;
const MODE_JWT: i32 = 1;
const SUBJECT_HEADER = "x-auth-subject";
const MAX_LEEWAY_SECONDS: f64 = 300;

// Each configured key sits in a slot of SLOT_BYTES (its bytes, then zeros), and the presented key
// is read into a buffer padded the same way. Every slot is compared in full, with its length,
// and without an early exit: the time taken depends only on the configuration (how many keys,
// and SLOT_BYTES), never on the presented key, how much of it was right, or which key matched.
const MIN_SLOT_BYTES = 128;
// The presented key, read in place: nothing is allocated per request.
const KEY = new ByteBuffer(MIN_SLOT_BYTES);

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function unauthorized(req: Request, challenge: string, reason: string): Action {
  return req.respondJson(401, "{\"error\":" + jsonString(reason) + "}", [["www-authenticate", challenge]]);
}

class Auth extends Filter {
  mode: i32 = MODE_API_KEY;
  header: string = "x-api-key";
  // The keys' bytes, one slot of `slotBytes` each (a multiple of 8: MIN_SLOT_BYTES, or the
  // longest key's length rounded up), and each key's length.
  keySlots: StaticArray<u8> = new StaticArray<u8>(0);
  keyLengths: StaticArray<i32> = new StaticArray<i32>(0);
  slotBytes: i32 = MIN_SLOT_BYTES;
  // The subject reported for each key, so later filters (a rate limit) can tell clients apart.
  subjects: string[] = [];
  jwt: JwtOptions = new JwtOptions();

  name(): string {
    return "auth";
  }

  configure(config: Config): string | null {
    const mode = config.getString("mode", "api-key");
    if (mode == "api-key") {
      this.mode = MODE_API_KEY;
      config.allowOnly(["mode", "header", "keys", "subjects"]);
      const header = config.getString("header", this.header);
      if (header == null || !isHeaderName(header)) return "\"header\" must be a header name (an HTTP token)";
      this.header = header;
      const keys = config.getStringArray("keys");
      if (keys == null || keys.length == 0) return "\"keys\" must be a non-empty array of strings";
      const subjects = config.has("subjects") ? config.getStringArray("subjects") : null;
      if (config.has("subjects") && (subjects == null || subjects.length != keys.length)) {
        return "\"subjects\" must be an array of strings, one per entry of \"keys\"";
      }
      const encoded: Uint8Array[] = [];
      for (let i = 0; i < keys.length; i++) {
        if (keys[i].length == 0) return "\"keys\" must not contain an empty string";
        const bytes = utf8(keys[i]);
        if (bytes.length > this.slotBytes) this.slotBytes = (bytes.length + 7) & ~7;
        encoded.push(bytes);
        const subject = subjects != null ? subjects[i] : "key-" + i.toString();
        if (subject.length == 0 || !isHeaderValue(subject)) return "\"subjects\" must be non-empty header-safe strings";
        this.subjects.push(subject);
      }
      this.keySlots = new StaticArray<u8>(encoded.length * this.slotBytes);
      this.keyLengths = new StaticArray<i32>(encoded.length);
      for (let i = 0; i < encoded.length; i++) {
        const bytes = encoded[i];
        memory.copy(changetype<usize>(this.keySlots) + <usize>(i * this.slotBytes), bytes.dataStart, <usize>bytes.length);
        this.keyLengths[i] = bytes.length;
      }
      return null;
    }
    if (mode == "jwt") {
      this.mode = MODE_JWT;
      config.allowOnly(["mode", "secret", "issuer", "audience", "leewaySeconds"]);
      const secret = config.getString("secret");
      if (secret == null || secret.length == 0) return "\"secret\" must be a non-empty string (the HS256 key)";
      this.jwt.secret = utf8(secret);
      this.jwt.issuer = config.getString("issuer");
      this.jwt.audience = config.getString("audience");
      this.jwt.leewaySeconds = config.getInteger("leewaySeconds", 5, 0, MAX_LEEWAY_SECONDS);
      return null;
    }
    return "\"mode\" must be \"api-key\" or \"jwt\"";
  }

  onRequest(req: Request): Action {
    return this.mode == MODE_API_KEY ? this.checkApiKey(req) : this.checkJwt(req);
  }

  private checkApiKey(req: Request): Action {
    // The header's bytes as sent; a configured key is compared as its UTF-8 bytes.
    if (!req.headerInto(this.header, KEY.clear())) return unauthorized(req, "ApiKey", "missing api key");
    const found = this.matchKey();
    if (found < 0) return unauthorized(req, "ApiKey", "invalid api key");
    req.removeHeader(this.header);
    req.setHeader(SUBJECT_HEADER, this.subjects[found]);
    return Action.Continue;
  }

  // The index of the configured key equal to KEY's bytes, or -1. Compares every slot in full:
  // no early exit and no branch on the bytes, so the time does not depend on them.
  private matchKey(): i32 {
    const n = KEY.length;
    const width = this.slotBytes;
    // Pad the presented key with zeros to a slot's width (a longer one is compared by its first
    // `width` bytes and its length, which then differs).
    if (n < width) memory.fill(KEY.reserve(width - n), 0, <usize>(width - n));
    const presented = KEY.dataStart;
    const slots = changetype<usize>(this.keySlots);
    let found = -1;
    for (let i = 0; i < this.keyLengths.length; i++) {
      const slot = slots + <usize>(i * width);
      let diff = <u64>(n ^ unchecked(this.keyLengths[i]));
      for (let off = 0; off < width; off += 8) {
        diff |= load<u64>(presented + <usize>off) ^ load<u64>(slot + <usize>off);
      }
      found = select<i32>(i, found, diff == 0);
    }
    return found;
  }

  private checkJwt(req: Request): Action {
    const authorization = req.header("authorization");
    // RFC 6750 section 3.1: no error code when the request carries no credentials at all.
    if (authorization == null) return unauthorized(req, "Bearer", "missing bearer token");
    if (authorization.length < 7 || authorization.substring(0, 7).toLowerCase() != "bearer ") {
      return unauthorized(req, "Bearer error=\"invalid_request\"", "authorization is not a bearer token");
    }
    const result = verifyJwt(authorization.substring(7).trim(), this.jwt, now());
    const claims = result.claims;
    if (claims == null) return unauthorized(req, "Bearer error=\"invalid_token\"", result.error);
    req.removeHeader("authorization");
    const sub = claims.getString("sub");
    // Always set or remove, so a client can never supply its own subject.
    if (sub != null) {
      if (!isHeaderValue(sub)) return unauthorized(req, "Bearer error=\"invalid_token\"", "invalid token subject");
      req.setHeader(SUBJECT_HEADER, sub);
    } else {
      req.removeHeader(SUBJECT_HEADER);
    }
    return Action.Continue;
  }
}

registerFilter(new Auth());
