// The request as a filter sees it. Every accessor is a host call on the request the framework
// holds (docs/abi.md): nothing is copied into the module until asked for, and a change is
// applied at once, so later reads (here and in later filters) see it. RequestView is the
// read-only form (the response phase's `res.request`); Request adds the changes.
import { Action } from "./action";
import {
  FIELD_CLIENT_ADDRESS, FIELD_METHOD, FIELD_PATH, FIELD_QUERY, FIELD_REQUEST_BODY, FIELD_REQUEST_ID,
  MAP_REQUEST, MAP_RESPONSE_ADD
} from "./abi";
import { bodyBase64, bodyBytes, bodyText, setBodyBytes, setBodyText } from "./body";
import { ByteBuffer } from "./bytes";
import {
  headerAppend, headerEquals, headerNamesOf, headerPresent, headerString, headerValuesOf, removeHeaderIn,
  setHeaderBytesIn, setHeaderIn, setHeaderValuesIn
} from "./headers";
import { hostSet } from "./host";
import { respondWith } from "./local-reply";
import { readField } from "./reads";
import { readBuffer, valueBuffer } from "./scratch";
import { equalsLatin1, latin1String, putLatin1 } from "./text";

function fieldString(field: i32): string {
  const n = readField(field);
  return n > 0 ? latin1String(readBuffer(), n) : "";
}

export class RequestView {
  /** The request id (the framework's). */
  get id(): string {
    return fieldString(FIELD_REQUEST_ID);
  }

  /** Upper-case method, e.g. "GET". */
  get method(): string {
    return fieldString(FIELD_METHOD);
  }

  /** The URL path as received (percent-encoding kept), or as set by setPath(). */
  get path(): string {
    return fieldString(FIELD_PATH);
  }

  /** The query string without "?" ("" when absent), or as set by setQuery(). */
  get query(): string {
    return fieldString(FIELD_QUERY);
  }

  /** The client address as the framework sees it. */
  get remoteAddress(): string {
    return fieldString(FIELD_CLIENT_ADDRESS);
  }

  /** Header `name` (case-insensitive), or null; repeated values joined with ", ". */
  header(name: string): string | null {
    return headerString(MAP_REQUEST, name);
  }

  /**
   * Appends header `name` (repeated values joined with ", ") to `out` without making a string;
   * false, and `out` unchanged, when absent. See ByteBuffer.
   */
  headerInto(name: string, out: ByteBuffer): bool {
    return headerAppend(MAP_REQUEST, name, out);
  }

  /** Every value of header `name`; empty when absent. */
  headerValues(name: string): string[] {
    return headerValuesOf(MAP_REQUEST, name);
  }

  /** True if header `name` is present. Copies nothing and allocates nothing. */
  hasHeader(name: string): bool {
    return headerPresent(MAP_REQUEST, name);
  }

  /** True if header `name` is present with exactly `value`. Allocates nothing. */
  headerIs(name: string, value: string): bool {
    return headerEquals(MAP_REQUEST, name, value);
  }

  /** The names of every header, lower-case. */
  headerNames(): string[] {
    return headerNamesOf(MAP_REQUEST);
  }
}

export class Request extends RequestView {
  /**
   * The body as text; null when the request has none, when it is empty or not valid UTF-8 (see
   * bodyBase64, bodyBytes), or when the filter did not ask for it with needsRequestBody().
   */
  get body(): string | null {
    return bodyText(FIELD_REQUEST_BODY);
  }

  /** The body in base64 when it is not valid UTF-8, else null. */
  get bodyBase64(): string | null {
    return bodyBase64(FIELD_REQUEST_BODY);
  }

  /** The body's bytes (null when absent or empty). */
  bodyBytes(): Uint8Array | null {
    return bodyBytes(FIELD_REQUEST_BODY);
  }

  /** Sets (replaces) a header for the next filter and the route. */
  setHeader(name: string, value: string): void {
    setHeaderIn(MAP_REQUEST, name, value);
  }

  /** Sets (replaces) a header to the bytes of `value`, one byte per character. */
  setHeaderBytes(name: string, value: ByteBuffer): void {
    setHeaderBytesIn(MAP_REQUEST, name, value);
  }

  /** Sets a header to several values (sent as separate header lines). */
  setHeaderValues(name: string, values: string[]): void {
    setHeaderValuesIn(MAP_REQUEST, name, values);
  }

  removeHeader(name: string): void {
    removeHeaderIn(MAP_REQUEST, name);
  }

  /**
   * Sets a header on the response this request will get, whoever produces it (the route, the
   * upstream or a later filter; the producer wins if it sets the same header). Lets a
   * request-phase filter report something to the client (rate-limit state, a request id)
   * without a response phase.
   */
  setResponseHeader(name: string, value: string): void {
    setHeaderIn(MAP_RESPONSE_ADD, name, value);
  }

  /** Like setResponseHeader(), with the value's bytes. */
  setResponseHeaderBytes(name: string, value: ByteBuffer): void {
    setHeaderBytesIn(MAP_RESPONSE_ADD, name, value);
  }

  /**
   * If the path starts with `from`, replaces that prefix with `to` and returns true. Reads the
   * path into the SDK's scratch buffer and writes the new one from another: no string is made.
   */
  replacePathPrefix(from: string, to: string): bool {
    const n = readField(FIELD_PATH);
    const f = from.length;
    if (n < f || !equalsLatin1(from, readBuffer(), f)) return false;
    const t = to.length;
    const dst = valueBuffer(t + n - f);
    const src = changetype<usize>(to);
    for (let i = 0; i < t; i++) {
      const c = <u32>load<u16>(src + (<usize>i << 1));
      store<u8>(dst + <usize>i, <u8>(c <= 0xff ? c : 0));
    }
    memory.copy(dst + <usize>t, readBuffer() + <usize>f, <usize>(n - f));
    hostSet(FIELD_PATH, dst, t + n - f);
    return true;
  }

  /** New path: must start with "/" and pass the request-target rule (docs/config.md). */
  setPath(path: string): void {
    const n = putLatin1(path);
    hostSet(FIELD_PATH, valueBuffer(0), n);
  }

  /** New query string, without "?". */
  setQuery(query: string): void {
    const n = putLatin1(query);
    hostSet(FIELD_QUERY, valueBuffer(0), n);
  }

  /** New body text (UTF-8); needs needsRequestBody(). The host fixes content-length. */
  setBody(body: string): void {
    setBodyText(FIELD_REQUEST_BODY, body, "req.setBody");
  }

  /** New body bytes; needs needsRequestBody(). */
  setBodyBytes(body: Uint8Array): void {
    setBodyBytes(FIELD_REQUEST_BODY, body, "req.setBody");
  }

  /**
   * Answers the request now: returns Action.Respond, so `return req.respond(...)` ends the
   * phase. `headers` are [name, value] pairs.
   */
  respond(status: i32, body: string | null = null, headers: string[][] | null = null): Action {
    return respondWith(status, body, headers, false);
  }

  /** Like respond(), adding `content-type: application/json` unless a content-type is given. */
  respondJson(status: i32, json: string, headers: string[][] | null = null): Action {
    return respondWith(status, json, headers, true);
  }
}
