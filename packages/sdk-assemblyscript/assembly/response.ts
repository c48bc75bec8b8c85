// The reply as a filter sees it in the response phase: the route's (or an earlier filter's),
// read and changed through host calls like Request. `request` is the request as the route saw it.
import { Action } from "./action";
import { FIELD_RESPONSE_BODY, MAP_RESPONSE } from "./abi";
import { bodyBase64, bodyBytes, bodyText, setBodyBytes, setBodyText } from "./body";
import { ByteBuffer } from "./bytes";
import {
  headerAppend, headerEquals, headerNamesOf, headerPresent, headerString, headerValuesOf, removeHeaderIn,
  setHeaderBytesIn, setHeaderIn, setHeaderValuesIn
} from "./headers";
import { hostStatusGet, hostStatusSet } from "./host";
import { respondWith } from "./local-reply";
import { RequestView } from "./request";

const view = new RequestView();

export class Response {
  /** The status code, or the one set with setStatus(). */
  get status(): i32 {
    return hostStatusGet();
  }

  /** The request as the route saw it (after every request-phase change); read-only. */
  get request(): RequestView {
    return view;
  }

  header(name: string): string | null {
    return headerString(MAP_RESPONSE, name);
  }

  /** Appends header `name` to `out` without making a string; false when absent (see Request). */
  headerInto(name: string, out: ByteBuffer): bool {
    return headerAppend(MAP_RESPONSE, name, out);
  }

  headerValues(name: string): string[] {
    return headerValuesOf(MAP_RESPONSE, name);
  }

  /** True if header `name` is present. Copies nothing and allocates nothing. */
  hasHeader(name: string): bool {
    return headerPresent(MAP_RESPONSE, name);
  }

  /** True if header `name` is present with exactly `value`. Allocates nothing. */
  headerIs(name: string, value: string): bool {
    return headerEquals(MAP_RESPONSE, name, value);
  }

  headerNames(): string[] {
    return headerNamesOf(MAP_RESPONSE);
  }

  /** The body as text; null when absent, empty, not UTF-8, or not asked for with needsResponseBody(). */
  get body(): string | null {
    return bodyText(FIELD_RESPONSE_BODY);
  }

  /** The body in base64 when it is not valid UTF-8, else null. */
  get bodyBase64(): string | null {
    return bodyBase64(FIELD_RESPONSE_BODY);
  }

  bodyBytes(): Uint8Array | null {
    return bodyBytes(FIELD_RESPONSE_BODY);
  }

  /** New status code, 200..599. */
  setStatus(status: i32): void {
    hostStatusSet(status);
  }

  setHeader(name: string, value: string): void {
    setHeaderIn(MAP_RESPONSE, name, value);
  }

  /** Sets (replaces) a header to the bytes of `value`. */
  setHeaderBytes(name: string, value: ByteBuffer): void {
    setHeaderBytesIn(MAP_RESPONSE, name, value);
  }

  setHeaderValues(name: string, values: string[]): void {
    setHeaderValuesIn(MAP_RESPONSE, name, values);
  }

  removeHeader(name: string): void {
    removeHeaderIn(MAP_RESPONSE, name);
  }

  /** New body text; needs needsResponseBody(). */
  setBody(body: string): void {
    setBodyText(FIELD_RESPONSE_BODY, body, "res.setBody");
  }

  setBodyBytes(body: Uint8Array): void {
    setBodyBytes(FIELD_RESPONSE_BODY, body, "res.setBody");
  }

  /** Replaces the reply entirely; returns Action.Respond. */
  respond(status: i32, body: string | null = null, headers: string[][] | null = null): Action {
    return respondWith(status, body, headers, false);
  }

  /** Like respond(), adding `content-type: application/json` unless a content-type is given. */
  respondJson(status: i32, json: string, headers: string[][] | null = null): Action {
    return respondWith(status, json, headers, true);
  }
}
