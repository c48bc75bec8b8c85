// Static request/response rewriting from configuration: set and remove request headers,
// replace a path prefix, and set or remove response headers.
import {
  Action, Config, Filter, isHeaderName, isHeaderValue, JsonKind, registerFilter, Request, Response
} from "@wafer/sdk-assemblyscript";
export * from "@wafer/sdk-assemblyscript/assembly/exports";

// A header name with its value(s); `list` keeps a JSON array as several header lines.
class HeaderValue {
  constructor(public name: string, public values: string[], public list: bool) {}
}

// Reads an object of header name -> string | string[] (`field` names it in messages).
function readHeaderMap(config: Config, field: string, out: HeaderValue[]): void {
  const obj = config.getObject(field);
  if (obj == null) return;
  const names = obj.keys();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const where = obj.describe(name);
    if (!isHeaderName(name)) {
      config.fail(where + " is not a valid header name");
      return;
    }
    const v = obj.get(name)!;
    const values: string[] = [];
    if (v.kind == JsonKind.String) {
      values.push(v.stringValue);
    } else if (v.kind == JsonKind.Array) {
      for (let j = 0; j < v.items.length; j++) {
        const item = v.items[j];
        if (item.kind != JsonKind.String) break;
        values.push(item.stringValue);
      }
      if (values.length != v.items.length || values.length == 0) values.length = 0;
    }
    if (values.length == 0) {
      config.fail(where + " must be a string or a non-empty array of strings");
      return;
    }
    for (let j = 0; j < values.length; j++) {
      if (!isHeaderValue(values[j])) {
        config.fail(where + " must not contain CR, LF or NUL");
        return;
      }
    }
    out.push(new HeaderValue(name, values, v.kind == JsonKind.Array));
  }
}

function readHeaderNames(config: Config, field: string, out: string[]): void {
  const names = config.getStringArray(field);
  if (names == null) return;
  for (let i = 0; i < names.length; i++) {
    if (!isHeaderName(names[i])) {
      config.fail(config.describe(field) + " must hold header names; \"" + names[i] + "\" is not one");
      return;
    }
    out.push(names[i]);
  }
}

function isPathPrefix(p: string): bool {
  if (!p.startsWith("/")) return false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c <= 0x20 || c == 0x3f || c == 0x23 || c == 0x7f) return false; // no space, control, ? or #
  }
  return true;
}

// Removals go first, so a header listed in both ends up set.
function applyToRequest(req: Request, sets: HeaderValue[], removes: string[]): void {
  for (let i = 0; i < removes.length; i++) req.removeHeader(removes[i]);
  for (let i = 0; i < sets.length; i++) {
    const h = sets[i];
    if (h.list) req.setHeaderValues(h.name, h.values);
    else req.setHeader(h.name, h.values[0]);
  }
}

function applyToResponse(res: Response, sets: HeaderValue[], removes: string[]): void {
  for (let i = 0; i < removes.length; i++) res.removeHeader(removes[i]);
  for (let i = 0; i < sets.length; i++) {
    const h = sets[i];
    if (h.list) res.setHeaderValues(h.name, h.values);
    else res.setHeader(h.name, h.values[0]);
  }
}

class Rewrite extends Filter {
  setHeaders: HeaderValue[] = [];
  removeHeaders: string[] = [];
  prefixFrom: string = "";
  prefixTo: string = "";
  responseSet: HeaderValue[] = [];
  responseRemove: string[] = [];

  name(): string {
    return "rewrite";
  }

  configure(config: Config): string | null {
    config.allowOnly(["setHeaders", "removeHeaders", "prefix", "responseHeaders"]);
    readHeaderMap(config, "setHeaders", this.setHeaders);
    readHeaderNames(config, "removeHeaders", this.removeHeaders);
    const prefix = config.getObject("prefix");
    if (prefix != null) {
      prefix.allowOnly(["from", "to"]);
      const from = prefix.getString("from");
      const to = prefix.getString("to");
      if (from == null || !isPathPrefix(from)) {
        return prefix.describe("from") + " must be a path starting with \"/\" (no spaces, \"?\" or \"#\")";
      }
      if (to == null || !isPathPrefix(to)) {
        return prefix.describe("to") + " must be a path starting with \"/\" (no spaces, \"?\" or \"#\")";
      }
      this.prefixFrom = from;
      this.prefixTo = to;
    }
    const response = config.getObject("responseHeaders");
    if (response != null) {
      response.allowOnly(["set", "remove"]);
      readHeaderMap(response, "set", this.responseSet);
      readHeaderNames(response, "remove", this.responseRemove);
    }
    return null;
  }

  // Phases with nothing to do for this configuration are never called.
  handlesRequest(): bool {
    return this.setHeaders.length != 0 || this.removeHeaders.length != 0 || this.prefixFrom.length != 0;
  }

  handlesResponse(): bool {
    return this.responseSet.length != 0 || this.responseRemove.length != 0;
  }

  onRequest(req: Request): Action {
    applyToRequest(req, this.setHeaders, this.removeHeaders);
    if (this.prefixFrom.length != 0) req.replacePathPrefix(this.prefixFrom, this.prefixTo);
    return Action.Continue;
  }

  onResponse(res: Response): Action {
    applyToResponse(res, this.responseSet, this.responseRemove);
    return Action.Continue;
  }
}

registerFilter(new Rewrite());
