// The route's reply as a filter sees it in the response phase, read lazily like Request, with
// the changes that become the response patch. `request` is the request as the route saw it.
import { Action } from "./action";
import { HeaderPatch } from "./header-patch";
import { patchedHasHeader, patchedHeader, patchedHeaderValues } from "./header-view";
import { InputBuffer } from "./input-buffer";
import { InputObject } from "./input-object";
import { JsonWriter } from "./json-writer";
import { chooseReply, jsonReply, Reply } from "./reply";
import { RequestView } from "./request";

export class Response {
  private src: InputObject;
  private view: RequestView;
  private viewBound: bool = false;
  private headerPatch: HeaderPatch = new HeaderPatch();
  private newStatus: i32 = 0;
  private newBody: string | null = null;

  constructor(input: InputBuffer) {
    this.src = new InputObject(input);
    this.view = new RequestView(input);
  }

  reset(): void {
    this.src.reset(0);
    this.viewBound = false;
    this.headerPatch.reset();
    this.newStatus = 0;
    this.newBody = null;
  }

  /** The status code, or the one set with setStatus(). */
  get status(): i32 {
    if (this.newStatus != 0) return this.newStatus;
    const n = this.src.number("status");
    return isFinite(n) ? <i32>n : 0;
  }

  /** The request as the route saw it (after every request-phase patch, without its body). */
  get request(): RequestView {
    if (!this.viewBound) {
      this.view.reset(this.src.fieldAt("request"));
      this.viewBound = true;
    }
    return this.view;
  }

  header(name: string): string | null {
    return patchedHeader(this.headerPatch, this.src, name);
  }

  headerValues(name: string): string[] {
    return patchedHeaderValues(this.headerPatch, this.src, name);
  }

  hasHeader(name: string): bool {
    return patchedHasHeader(this.headerPatch, this.src, name);
  }

  /** The body as text; null when absent, not UTF-8, or not asked for with needsResponseBody(). */
  get body(): string | null {
    const changed = this.newBody;
    return changed != null ? changed : this.src.string("body");
  }

  /** The body in base64 when it is not valid UTF-8, else null. */
  get bodyBase64(): string | null {
    return this.newBody != null ? null : this.src.string("bodyBase64");
  }

  /** New status code, 200..599. */
  setStatus(status: i32): void {
    this.newStatus = status;
  }

  setHeader(name: string, value: string): void {
    this.headerPatch.set(name, [value], false);
  }

  setHeaderValues(name: string, values: string[]): void {
    this.headerPatch.set(name, values.slice(0), true);
  }

  removeHeader(name: string): void {
    this.headerPatch.remove(name);
  }

  /** New body text; only allowed when the filter declared needsResponseBody(). */
  setBody(body: string): void {
    this.newBody = body;
  }

  /** Replaces the route's reply entirely; returns Action.Respond. */
  respond(status: i32, body: string | null = null, headers: string[][] | null = null): Action {
    chooseReply(new Reply(status, body, headers));
    return Action.Respond;
  }

  /** Like respond(), adding `content-type: application/json` unless a content-type is given. */
  respondJson(status: i32, json: string, headers: string[][] | null = null): Action {
    chooseReply(jsonReply(status, json, headers));
    return Action.Respond;
  }

  get changed(): bool {
    return this.newStatus != 0 || !this.headerPatch.isEmpty || this.newBody != null;
  }

  /** Writes the response patch (docs/abi.md section 5). */
  writePatch(w: JsonWriter): void {
    w.beginObject();
    if (this.newStatus != 0) w.key("status").number(<f64>this.newStatus);
    this.headerPatch.write(w);
    const body = this.newBody;
    if (body != null) w.key("body").string(body);
    w.endObject();
  }
}
