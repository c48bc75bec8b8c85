// respond(): a local response, sent when the phase returns Action.Respond (docs/abi.md
// section 4, "Answering locally"). The headers go to the LOCAL map, then the status and body to
// the `respond` import. The SDK remembers that respond() was called in this phase so that a bare
// `return Action.Respond` traps with a message instead of failing with a generic error.
import { Action } from "./action";
import { MAP_LOCAL } from "./abi";
import { addHeaderIn, setHeaderIn } from "./headers";
import { hostRespond } from "./host";
import { valueBuffer } from "./scratch";
import { putUtf8 } from "./text";

let responded = false;

export function respondedInPhase(): bool {
  return responded;
}

export function resetResponded(): void {
  responded = false;
}

// ASCII case-insensitive equality of two header names.
function sameName(a: string, b: string): bool {
  const n = a.length;
  if (b.length != n) return false;
  for (let i = 0; i < n; i++) {
    let x = <u32>a.charCodeAt(i);
    let y = <u32>b.charCodeAt(i);
    if (x - 0x41 < 26) x += 0x20;
    if (y - 0x41 < 26) y += 0x20;
    if (x != y) return false;
  }
  return true;
}

// True if a pair before `index` names `name`.
function seenBefore(headers: string[][], index: i32, name: string): bool {
  for (let i = 0; i < index; i++) {
    const pair = unchecked(headers[i]);
    if (pair.length != 0 && sameName(unchecked(pair[0]), name)) return true;
  }
  return false;
}

function hasName(headers: string[][] | null, name: string): bool {
  if (headers == null) return false;
  for (let i = 0; i < headers.length; i++) {
    const pair = unchecked(headers[i]);
    if (pair.length != 0 && sameName(unchecked(pair[0]), name)) return true;
  }
  return false;
}

/**
 * `headers` are [name, value] pairs; [name, v1, v2] or a repeated name sends several values.
 * `json` adds `content-type: application/json` unless a content-type is given.
 */
export function respondWith(status: i32, body: string | null, headers: string[][] | null, json: bool): Action {
  if (headers != null) {
    for (let i = 0; i < headers.length; i++) {
      const pair = unchecked(headers[i]);
      if (pair.length == 0) continue;
      const name = unchecked(pair[0]);
      const first = pair.length > 1 ? unchecked(pair[1]) : "";
      if (seenBefore(headers, i, name)) addHeaderIn(MAP_LOCAL, name, first);
      else setHeaderIn(MAP_LOCAL, name, first);
      for (let j = 2; j < pair.length; j++) addHeaderIn(MAP_LOCAL, name, unchecked(pair[j]));
    }
  }
  if (json && !hasName(headers, "content-type")) setHeaderIn(MAP_LOCAL, "content-type", "application/json");
  const len = body != null ? putUtf8(body) : 0;
  hostRespond(status, valueBuffer(0), len);
  responded = true;
  return Action.Respond;
}
