// The ABI exports for a filter with only a response phase (no wafer_on_request):
//   export * from "@wafer/sdk-assemblyscript/assembly/exports-response";
// asc's `--use abort=...waferAbort` only finds the replacement if this module is loaded from
// a file the entry imports directly.
import "./abort";
import { init, onResponse, onResume } from "./entry";

/** Declares ABI version 2 (docs/abi.md section 1); never called. */
export function wafer_abi_version_2(): void {}

export function wafer_init(configLen: i32): i32 {
  return init(configLen);
}

export function wafer_on_response(): i32 {
  return onResponse();
}

export function wafer_on_resume(token: i32): i32 {
  return onResume(token);
}
