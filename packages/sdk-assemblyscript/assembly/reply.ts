// A complete reply chosen by respond(): the output of a RESPOND action. At most one per phase;
// it is held here until the entry point returns and writes it.
import { asciiLower } from "./ascii";
import { JsonWriter } from "./json-writer";

export class Reply {
  constructor(
    public status: i32,
    public body: string | null,
    // Pairs [name, value]; [name, v1, v2, ...] or a repeated name sends several values.
    public headers: string[][] | null
  ) {}

  hasHeader(name: string): bool {
    const headers = this.headers;
    if (headers == null) return false;
    const key = asciiLower(name);
    for (let i = 0; i < headers.length; i++) {
      const pair = unchecked(headers[i]);
      if (pair.length != 0 && asciiLower(unchecked(pair[0])) == key) return true;
    }
    return false;
  }

  write(w: JsonWriter): void {
    w.beginObject();
    w.key("status").number(<f64>this.status);
    const headers = this.headers;
    if (headers != null && headers.length != 0) {
      w.key("headers").beginObject();
      const names = new Array<string>(0);
      for (let i = 0; i < headers.length; i++) {
        const pair = unchecked(headers[i]);
        if (pair.length == 0) continue;
        const name = asciiLower(unchecked(pair[0]));
        if (names.includes(name)) continue;
        names.push(name);
        const values = valuesOf(headers, name);
        w.key(name);
        if (values.length == 1) w.string(unchecked(values[0]));
        else w.strings(values);
      }
      w.endObject();
    }
    const body = this.body;
    if (body != null) w.key("body").string(body);
    w.endObject();
  }
}

// Every value given for `name`, across repeated pairs, in order.
function valuesOf(headers: string[][], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    const pair = unchecked(headers[i]);
    if (pair.length == 0 || asciiLower(unchecked(pair[0])) != name) continue;
    for (let j = 1; j < pair.length; j++) out.push(unchecked(pair[j]));
  }
  if (out.length == 0) out.push("");
  return out;
}

/** A reply with `content-type: application/json` added unless `headers` set a content-type. */
export function jsonReply(status: i32, json: string, headers: string[][] | null): Reply {
  const reply = new Reply(status, json, headers);
  if (!reply.hasHeader("content-type")) {
    const all = headers != null ? headers.slice(0) : new Array<string[]>(0);
    all.push(["content-type", "application/json"]);
    reply.headers = all;
  }
  return reply;
}

let chosen: Reply | null = null;

export function chooseReply(reply: Reply): void {
  chosen = reply;
}

export function chosenReply(): Reply | null {
  return chosen;
}

export function clearReply(): void {
  chosen = null;
}
