// The bodies of the ABI entry points. exports*.ts give them their ABI names; keeping them here
// lets a filter export only the phases it implements without duplicating any logic.
import { Action } from "./action";
import {
  currentPhase, input, PHASE_IDLE, PHASE_REQUEST, PHASE_RESPONSE, request, response, setPhase
} from "./call-state";
import { Config } from "./config";
import { Filter, registeredFilter } from "./filter";
import { hostOutput } from "./host";
import { parseJsonBytes } from "./json-parse";
import { JsonValue } from "./json-value";
import { JsonWriter } from "./json-writer";
import { chosenReply, clearReply } from "./reply";
import { allocScratch } from "./scratch";

const NEEDS_REQUEST_BODY: i32 = 1;
const NEEDS_RESPONSE_BODY: i32 = 2;
const SKIP_REQUEST_PHASE: i32 = 4;
const SKIP_RESPONSE_PHASE: i32 = 8;
const REJECTED: i32 = -1;

const writer = new JsonWriter();

export function alloc(size: i32): usize {
  return allocScratch(size);
}

export function init(ptr: usize, len: i32): i32 {
  const filter = registeredFilter();
  let root = JsonValue.newObject(); // the host passes "{}" when there is no config; be lenient with nothing
  if (len > 0) {
    const parsed = parseJsonBytes(ptr, len);
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
  const bytes = String.UTF8.encode(name.length != 0 ? name + ": " + message : message);
  hostOutput(changetype<usize>(bytes), bytes.byteLength);
  return REJECTED;
}

export function onRequest(ptr: usize, len: i32): i32 {
  input.bind(ptr, len);
  request.reset(0);
  clearReply();
  setPhase(PHASE_REQUEST);
  return finish(registeredFilter().onRequest(request));
}

export function onResponse(ptr: usize, len: i32): i32 {
  input.bind(ptr, len);
  response.reset();
  clearReply();
  setPhase(PHASE_RESPONSE);
  return finish(registeredFilter().onResponse(response));
}

export function onResume(token: i32, status: i32, ptr: usize, len: i32): i32 {
  if (currentPhase() == PHASE_IDLE) abort("wafer_on_resume called while no phase is paused");
  const data = new Uint8Array(len > 0 ? len : 0);
  if (len > 0) memory.copy(data.dataStart, ptr, <usize>len);
  return finish(registeredFilter().onKvResult(token, status, data));
}

// Turns the handler's action into the entry point's result, emitting the output (if any) with
// exactly one `output` call. A Continue that changed nothing calls nothing, so the host can
// reuse the request it already encoded.
function finish(action: Action): i32 {
  if (action == Action.Pause) {
    input.preserve();
    return action;
  }
  const phase = currentPhase();
  if (action == Action.Respond) {
    const reply = chosenReply();
    if (reply == null) {
      abort("the filter returned Action.Respond without calling respond()");
      return action;
    }
    writer.reset();
    reply.write(writer);
    emit();
    clearReply();
  } else if (action == Action.Continue) {
    if (phase == PHASE_REQUEST && request.changed) {
      writer.reset();
      request.writePatch(writer);
      emit();
    } else if (phase == PHASE_RESPONSE && response.changed) {
      writer.reset();
      response.writePatch(writer);
      emit();
    }
  } else {
    abort("the filter returned an invalid action: " + (<i32>action).toString());
  }
  setPhase(PHASE_IDLE);
  return action;
}

function emit(): void {
  hostOutput(writer.ptr, writer.length);
}
