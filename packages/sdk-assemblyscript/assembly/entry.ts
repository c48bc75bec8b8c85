// The bodies of the ABI entry points. exports*.ts give them their ABI names; keeping them here
// lets a filter export only the phases it implements without duplicating any logic.
import { NEEDS_REQUEST_BODY, NEEDS_RESPONSE_BODY, SKIP_REQUEST_PHASE, SKIP_RESPONSE_PHASE } from "./abi";
import { Action } from "./action";
import { currentPhase, PHASE_IDLE, PHASE_REQUEST, PHASE_RESPONSE, request, response, setPhase } from "./call-state";
import { Config } from "./config";
import { Filter, registeredFilter } from "./filter";
import { hostConfigRead, hostInitReject } from "./host";
import { parseJsonBytes } from "./json-parse";
import { JsonValue } from "./json-value";
import { kvDeliver, kvDelivered, KvResult, kvResetPhase } from "./kv";
import { resetResponded, respondedInPhase } from "./local-reply";
import { valueBuffer } from "./scratch";
import { putUtf8 } from "./text";

const REJECTED: i32 = -1;

export function init(configLen: i32): i32 {
  const filter = registeredFilter();
  let root = JsonValue.newObject(); // the host passes "{}" when there is no config; be lenient with nothing
  if (configLen > 0) {
    const buf = heap.alloc(<usize>configLen);
    const n = hostConfigRead(buf, configLen);
    const parsed = parseJsonBytes(buf, n == configLen ? n : 0);
    heap.free(buf);
    const error = parsed.error;
    if (error != null) return reject(filter, "the configuration is not valid JSON: " + error);
    root = changetype<JsonValue>(parsed.value);
  }
  if (!root.isObject) return reject(filter, "the configuration must be a JSON object");
  const config = Config.root(root);
  const message = filter.configure(config);
  // A type error recorded by a Config getter comes first: it is usually why configure() failed.
  const recorded = config.error;
  if (recorded != null) return reject(filter, recorded);
  if (message != null) return reject(filter, message);
  let needs = 0;
  if (filter.needsRequestBody()) needs |= NEEDS_REQUEST_BODY;
  if (filter.needsResponseBody()) needs |= NEEDS_RESPONSE_BODY;
  if (!filter.handlesRequest()) needs |= SKIP_REQUEST_PHASE;
  if (!filter.handlesResponse()) needs |= SKIP_RESPONSE_PHASE;
  return needs;
}

function reject(filter: Filter, message: string): i32 {
  const name = filter.name();
  const n = putUtf8(name.length != 0 ? name + ": " + message : message);
  hostInitReject(valueBuffer(0), n);
  return REJECTED;
}

function begin(phase: i32): void {
  setPhase(phase);
  resetResponded();
  kvResetPhase();
}

export function onRequest(): i32 {
  begin(PHASE_REQUEST);
  return finish(registeredFilter().onRequest(request));
}

export function onResponse(): i32 {
  begin(PHASE_RESPONSE);
  return finish(registeredFilter().onResponse(response));
}

export function onResume(token: i32): i32 {
  if (currentPhase() == PHASE_IDLE) abort("wafer_on_resume called while no phase is paused");
  const result = kvDeliver(token);
  if (result == null) abort("wafer_on_resume called with a token no operation is waiting for: " + token.toString());
  const action = registeredFilter().onKvResult(token, changetype<KvResult>(result));
  kvDelivered();
  return finish(action);
}

// Checks the handler's action. Every change was made by a host call already, so there is
// nothing to send: Continue and Respond just end the phase.
function finish(action: Action): i32 {
  if (action == Action.Pause) return action;
  if (action == Action.Respond) {
    if (!respondedInPhase()) abort("the filter returned Action.Respond without calling respond()");
  } else if (action != Action.Continue) {
    abort("the filter returned an invalid action: " + (<i32>action).toString());
  }
  setPhase(PHASE_IDLE);
  return action;
}
