// What the current entry call is working on. A paused instance serves only its own request
// (docs/abi.md section 6), so plain globals are enough. Request and Response hold no state
// of their own (every accessor is a host call), so one of each serves every request.
import { Request } from "./request";
import { Response } from "./response";

export const PHASE_IDLE: i32 = 0;
export const PHASE_REQUEST: i32 = 1;
export const PHASE_RESPONSE: i32 = 2;

export const request = new Request();
export const response = new Response();

let phase: i32 = PHASE_IDLE;

export function currentPhase(): i32 {
  return phase;
}

export function setPhase(p: i32): void {
  phase = p;
}

/** The request of the current request phase (also during onKvResult). */
export function currentRequest(): Request {
  if (phase != PHASE_REQUEST) abort("currentRequest() is only available in the request phase");
  return request;
}

/** The response of the current response phase (also during onKvResult). */
export function currentResponse(): Response {
  if (phase != PHASE_RESPONSE) abort("currentResponse() is only available in the response phase");
  return response;
}
