// The ABI exports for a filter with only a request phase (no wafer_on_response, so the host
// never calls it after the route):
//   export * from "@wafer/sdk-assemblyscript/assembly/exports-request";
// asc's `--use abort=...waferAbort` only finds the replacement if this module is loaded from
// a file the entry imports directly.
import "./abort";
import { init, onRequest, onResume } from "./entry";

/** Declares ABI version 2 (docs/abi.md section 1); never called. */
export function wafer_abi_version_2(): void {}

export function wafer_init(configLen: i32): i32 {
  return init(configLen);
}

export function wafer_on_request(): i32 {
  return onRequest();
}

export function wafer_on_resume(token: i32): i32 {
  return onResume(token);
}
