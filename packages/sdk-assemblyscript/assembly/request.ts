// The request as a filter sees it. Nothing is decoded until asked for: a filter that only
// returns Continue parses nothing, and header() scans for the one header asked for.
// RequestView is the read-only form (the response phase's `res.request`); Request adds the
// changes that become the request patch.
import { Action } from "./action";
import { HeaderPatch } from "./header-patch";
import { patchedHasHeader, patchedHeader, patchedHeaderValues } from "./header-view";
import { InputBuffer } from "./input-buffer";
import { InputObject } from "./input-object";
import { JsonWriter } from "./json-writer";
import { chooseReply, jsonReply, Reply } from "./reply";

export class RequestView {
  protected src: InputObject;
  protected headerPatch: HeaderPatch = new HeaderPatch();
  protected newPath: string | null = null;
  protected newQuery: string | null = null;
  private cachedId: string | null = null;
  private cachedMethod: string | null = null;
  private cachedPath: string | null = null;
  private cachedQuery: string | null = null;
  private cachedRemote: string | null = null;

  constructor(input: InputBuffer) {
    this.src = new InputObject(input);
  }

  /** Points the view at the object starting at input offset `at` (-1: none). */
  reset(at: i32): void {
    this.src.reset(at);
    this.cachedId = null;
    this.cachedMethod = null;
    this.cachedPath = null;
    this.cachedQuery = null;
    this.cachedRemote = null;
  }

  /** The request id (the framework's). */
  get id(): string {
    let v = this.cachedId;
    if (v == null) this.cachedId = v = this.text("id");
    return v;
  }

  /** Upper-case method, e.g. "GET". */
  get method(): string {
    let v = this.cachedMethod;
    if (v == null) this.cachedMethod = v = this.text("method");
    return v;
  }

  /** The URL path as received (percent-encoding kept), or as set by setPath(). */
  get path(): string {
    const changed = this.newPath;
    if (changed != null) return changed;
    let v = this.cachedPath;
    if (v == null) this.cachedPath = v = this.text("path");
    return v;
  }

  /** The query string without "?" ("" when absent), or as set by setQuery(). */
  get query(): string {
    const changed = this.newQuery;
    if (changed != null) return changed;
    let v = this.cachedQuery;
    if (v == null) this.cachedQuery = v = this.text("query");
    return v;
  }

  /** The client address as the framework sees it. */
  get remoteAddress(): string {
    let v = this.cachedRemote;
    if (v == null) this.cachedRemote = v = this.text("remoteAddress");
    return v;
  }

  /** Header `name` (case-insensitive), or null; repeated values joined with ", ". */
  header(name: string): string | null {
    return patchedHeader(this.headerPatch, this.src, name);
  }

  /** Every value of header `name`; empty when absent. */
  headerValues(name: string): string[] {
    return patchedHeaderValues(this.headerPatch, this.src, name);
  }

  hasHeader(name: string): bool {
    return patchedHasHeader(this.headerPatch, this.src, name);
  }

  private text(name: string): string {
    const v = this.src.string(name);
    return v != null ? v : "";
  }
}

export class Request extends RequestView {
  private newBody: string | null = null;
  private responsePatch: HeaderPatch = new HeaderPatch();

  reset(at: i32): void {
    super.reset(at);
    this.headerPatch.reset();
    this.responsePatch.reset();
    this.newPath = null;
    this.newQuery = null;
    this.newBody = null;
  }

  /**
   * The body as text; null when the request has none, when it is not valid UTF-8 (see
   * bodyBase64), or when the filter did not ask for it with needsRequestBody().
   */
  get body(): string | null {
    const changed = this.newBody;
    return changed != null ? changed : this.src.string("body");
  }

  /** The body in base64 when it is not valid UTF-8, else null. */
  get bodyBase64(): string | null {
    return this.newBody != null ? null : this.src.string("bodyBase64");
  }

  /** Sets (replaces) a header for the next filter and the route. */
  setHeader(name: string, value: string): void {
    this.headerPatch.set(name, [value], false);
  }

  /** Sets a header to several values (sent as separate header lines). */
  setHeaderValues(name: string, values: string[]): void {
    this.headerPatch.set(name, values.slice(0), true);
  }

  removeHeader(name: string): void {
    this.headerPatch.remove(name);
  }

  /**
   * Sets a header on the response this request will get, whoever produces it (the route, the
   * upstream or a later filter; the producer wins if it sets the same header). Lets a
   * request-phase filter report something to the client (rate-limit state, a request id)
   * without a response phase.
   */
  setResponseHeader(name: string, value: string): void {
    this.responsePatch.set(name, [value], false);
  }

  /** New path: must start with "/" and hold no "?", "#", spaces or control characters. */
  setPath(path: string): void {
    this.newPath = path;
  }

  /** New query string, without "?". */
  setQuery(query: string): void {
    this.newQuery = query;
  }

  /** New body text; only allowed when the filter declared needsRequestBody(). */
  setBody(body: string): void {
    this.newBody = body;
  }

  /**
   * Answers the request now: returns Action.Respond, so `return req.respond(...)` ends the
   * phase. `headers` are [name, value] pairs.
   */
  respond(status: i32, body: string | null = null, headers: string[][] | null = null): Action {
    chooseReply(new Reply(status, body, headers));
    return Action.Respond;
  }

  /** Like respond(), adding `content-type: application/json` unless a content-type is given. */
  respondJson(status: i32, json: string, headers: string[][] | null = null): Action {
    chooseReply(jsonReply(status, json, headers));
    return Action.Respond;
  }

  /** True if anything was changed, i.e. there is a patch to send. */
  get changed(): bool {
    return !this.headerPatch.isEmpty || !this.responsePatch.isEmpty || this.newPath != null ||
      this.newQuery != null || this.newBody != null;
  }

  /** Writes the request patch (docs/abi.md section 5). */
  writePatch(w: JsonWriter): void {
    w.beginObject();
    this.headerPatch.write(w);
    const path = this.newPath;
    if (path != null) w.key("path").string(path);
    const query = this.newQuery;
    if (query != null) w.key("query").string(query);
    const body = this.newBody;
    if (body != null) w.key("body").string(body);
    this.responsePatch.writeSets(w, "setResponseHeaders");
    w.endObject();
  }
}
