// A JSON object inside the input (the request, the response, or the response input's nested
// `request`), read lazily: a field is located by scanning only when asked for, and only that
// field's value is decoded. Positions are kept relative to the buffer so they survive the copy
// InputBuffer makes on pause.
import { InputBuffer } from "./input-buffer";
import { decodeNumber, decodeString, findMember, firstElement, isArrayAt, nextElement } from "./json-scan";

const NOT_SCANNED: i32 = -2;
const ABSENT: i32 = -1;

export class InputObject {
  // Offset of the object's `{`, or ABSENT.
  private at: i32 = ABSENT;
  // Offset of the `headers` object, cached because filters often ask for several headers.
  private headersAt: i32 = NOT_SCANNED;

  constructor(private input: InputBuffer) {}

  reset(at: i32): void {
    this.at = at;
    this.headersAt = NOT_SCANNED;
  }

  /** Offset of member `name`'s value, or -1. */
  fieldAt(name: string): i32 {
    if (this.at < 0) return ABSENT;
    const base = this.input.ptr;
    const p = findMember(base + <usize>this.at, this.input.end, name, false);
    return p == 0 ? ABSENT : <i32>(p - base);
  }

  string(name: string): string | null {
    const at = this.fieldAt(name);
    return at < 0 ? null : decodeString(this.input.ptr + <usize>at, this.input.end);
  }

  number(name: string): f64 {
    const at = this.fieldAt(name);
    return at < 0 ? NaN : decodeNumber(this.input.ptr + <usize>at, this.input.end);
  }

  /** Absolute address of header `name`'s value (a string or an array of strings), or 0. */
  private headerPtr(name: string): usize {
    if (this.headersAt == NOT_SCANNED) this.headersAt = this.fieldAt("headers");
    if (this.headersAt < 0) return 0;
    const base = this.input.ptr;
    return findMember(base + <usize>this.headersAt, this.input.end, name, true);
  }

  hasHeader(name: string): bool {
    return this.headerPtr(name) != 0;
  }

  /** Header `name` (case-insensitive); a repeated header's values joined with ", ". */
  header(name: string): string | null {
    const p = this.headerPtr(name);
    if (p == 0) return null;
    const end = this.input.end;
    if (!isArrayAt(p, end)) return decodeString(p, end);
    let joined: string | null = null;
    for (let e = firstElement(p, end); e != 0; e = nextElement(e, end)) {
      const s = decodeString(e, end);
      if (s == null) continue;
      joined = joined == null ? s : joined + ", " + s;
    }
    return joined != null ? joined : "";
  }

  /** Every value of header `name`: one element for a single value, none when absent. */
  headerValues(name: string): string[] {
    const out: string[] = [];
    const p = this.headerPtr(name);
    if (p == 0) return out;
    const end = this.input.end;
    if (!isArrayAt(p, end)) {
      const s = decodeString(p, end);
      if (s != null) out.push(s);
      return out;
    }
    for (let e = firstElement(p, end); e != 0; e = nextElement(e, end)) {
      const s = decodeString(e, end);
      if (s != null) out.push(s);
    }
    return out;
  }
}
