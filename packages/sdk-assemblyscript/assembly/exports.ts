// The ABI exports for a filter with both phases. Re-export from the filter's entry file:
//   export * from "@wafer/sdk-assemblyscript/assembly/exports";
// A filter with one phase should use exports-request or exports-response instead, so the host
// does not call a phase the filter ignores.
// asc's `--use abort=...waferAbort` only finds the replacement if this module is loaded from
// a file the entry imports directly.
import "./abort";
import { init, onRequest, onResponse, onResume } from "./entry";

/** Declares ABI version 2 (docs/abi.md section 1); never called. */
export function wafer_abi_version_2(): void {}

export function wafer_init(configLen: i32): i32 {
  return init(configLen);
}

export function wafer_on_request(): i32 {
  return onRequest();
}

export function wafer_on_response(): i32 {
  return onResponse();
}

export function wafer_on_resume(token: i32): i32 {
  return onResume(token);
}
