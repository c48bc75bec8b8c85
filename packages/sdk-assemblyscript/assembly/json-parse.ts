// A strict RFC 8259 parser producing JsonValue trees. Strict because its main job is to reject
// a malformed filter configuration with a message saying where, instead of guessing.
import { JsonValue } from "./json-value";
import { decodeNumber, decodeString, isWs, readHex4 } from "./json-decode";

const MAX_DEPTH: i32 = 64;

/** Result of parsing: `value` on success, else `error` (with the byte offset in the message). */
export class JsonParseResult {
  value: JsonValue | null = null;
  error: string | null = null;
}

class Parser {
  p: usize;
  error: string | null = null;

  constructor(private start: usize, private end: usize) {
    this.p = start;
  }

  fail(what: string): JsonValue {
    // Whatever was expected, running out of input is the clearer explanation.
    if (this.p >= this.end) what = "unexpected end of input";
    if (this.error == null) this.error = what + " at byte " + (<i32>(this.p - this.start)).toString();
    return JsonValue.nullValue();
  }

  ws(): void {
    while (this.p < this.end && isWs(load<u8>(this.p))) this.p++;
  }

  peek(): i32 {
    return this.p < this.end ? <i32>load<u8>(this.p) : -1;
  }

  literal(word: string, value: JsonValue): JsonValue {
    const n = word.length;
    if (this.p + n > this.end) return this.fail("unexpected end of input");
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.p + i) != word.charCodeAt(i)) return this.fail("unexpected token");
    }
    this.p += n;
    return value;
  }

  value(depth: i32): JsonValue {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.ws();
    const c = this.peek();
    if (c < 0) return this.fail("unexpected end of input");
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      return s != null ? JsonValue.fromString(s) : JsonValue.nullValue();
    }
    if (c == 0x74) return this.literal("true", JsonValue.fromBool(true));
    if (c == 0x66) return this.literal("false", JsonValue.fromBool(false));
    if (c == 0x6e) return this.literal("null", JsonValue.nullValue());
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  object(depth: i32): JsonValue {
    const obj = JsonValue.newObject();
    this.p++;
    this.ws();
    if (this.peek() == 0x7d) {
      this.p++;
      return obj;
    }
    while (this.error == null) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a member name");
      const key = this.string();
      if (key == null) break;
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.p++;
      obj.set(key, this.value(depth + 1));
      this.ws();
      const c = this.peek();
      this.p++;
      if (c == 0x7d) return obj;
      if (c != 0x2c) {
        this.p--;
        return this.fail("expected ',' or '}'");
      }
    }
    return obj;
  }

  array(depth: i32): JsonValue {
    const arr = JsonValue.newArray();
    this.p++;
    this.ws();
    if (this.peek() == 0x5d) {
      this.p++;
      return arr;
    }
    while (this.error == null) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.peek();
      this.p++;
      if (c == 0x5d) return arr;
      if (c != 0x2c) {
        this.p--;
        return this.fail("expected ',' or ']'");
      }
    }
    return arr;
  }

  // Validates the string at the cursor, then decodes it with the shared decoder.
  string(): string | null {
    const open = this.p;
    let q = open + 1;
    while (true) {
      if (q >= this.end) {
        this.p = q;
        this.fail("unterminated string");
        return null;
      }
      const c = load<u8>(q);
      if (c == 0x22) break;
      if (c < 0x20) {
        this.p = q;
        this.fail("control character in string");
        return null;
      }
      if (c == 0x5c) {
        const e: u8 = q + 1 < this.end ? load<u8>(q + 1) : 0;
        if (e == 0x75) {
          if (readHex4(q + 2, this.end) < 0) {
            this.p = q;
            this.fail("bad \\u escape");
            return null;
          }
          q += 6;
          continue;
        }
        if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
          this.p = q;
          this.fail("bad escape");
          return null;
        }
        q += 2;
        continue;
      }
      q++;
    }
    this.p = q + 1;
    return decodeString(open + 1, q);
  }

  number(): JsonValue {
    const start = this.p;
    let q = start;
    if (load<u8>(q) == 0x2d) q++;
    const intStart = q;
    while (q < this.end && <u32>load<u8>(q) - 0x30 < 10) q++;
    const intDigits = <i32>(q - intStart);
    if (intDigits == 0 || (intDigits > 1 && load<u8>(intStart) == 0x30)) {
      this.p = intStart;
      return this.fail("bad number");
    }
    if (q < this.end && load<u8>(q) == 0x2e) {
      q++;
      const f = q;
      while (q < this.end && <u32>load<u8>(q) - 0x30 < 10) q++;
      if (q == f) {
        this.p = q;
        return this.fail("bad number");
      }
    }
    if (q < this.end && (load<u8>(q) | 0x20) == 0x65) {
      q++;
      if (q < this.end && (load<u8>(q) == 0x2b || load<u8>(q) == 0x2d)) q++;
      const e = q;
      while (q < this.end && <u32>load<u8>(q) - 0x30 < 10) q++;
      if (q == e) {
        this.p = q;
        return this.fail("bad number");
      }
    }
    this.p = q;
    return JsonValue.fromNumber(decodeNumber(start, q));
  }
}

/** Parses the UTF-8 JSON text at [ptr, ptr + len). */
export function parseJsonBytes(ptr: usize, len: i32): JsonParseResult {
  const result = new JsonParseResult();
  const parser = new Parser(ptr, ptr + <usize>len);
  const value = parser.value(0);
  if (parser.error == null) {
    parser.ws();
    if (parser.p != ptr + <usize>len) parser.fail("unexpected data after the JSON value");
  }
  if (parser.error != null) result.error = parser.error;
  else result.value = value;
  return result;
}

/** Parses JSON text held in a string. */
export function parseJson(text: string): JsonParseResult {
  const bytes = String.UTF8.encode(text);
  return parseJsonBytes(changetype<usize>(bytes), bytes.byteLength);
}

/** Parses JSON held in bytes (e.g. a key-value result or a decoded JWT segment). */
export function parseJsonData(data: Uint8Array): JsonParseResult {
  return parseJsonBytes(data.dataStart, data.length);
}
