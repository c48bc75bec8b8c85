// The ABI exports for a filter with both phases. Re-export from the filter's entry file:
//   export * from "@wafer/sdk-assemblyscript/assembly/exports";
// A filter with one phase should use exports-request or exports-response instead, so the host
// does not call (and encode the input for) a phase the filter ignores.
// asc's `--use abort=...waferAbort` only finds the replacement if this module is loaded from
// a file the entry imports directly.
import "./abort";
import { alloc, init, onRequest, onResponse, onResume } from "./entry";

/** Declares ABI version 1 (docs/abi.md section 1); never called. */
export function wafer_abi_version_1(): void {}

export function wafer_alloc(size: i32): usize {
  return alloc(size);
}

export function wafer_init(configPtr: usize, configLen: i32): i32 {
  return init(configPtr, configLen);
}

export function wafer_on_request(inputPtr: usize, inputLen: i32): i32 {
  return onRequest(inputPtr, inputLen);
}

export function wafer_on_response(inputPtr: usize, inputLen: i32): i32 {
  return onResponse(inputPtr, inputLen);
}

export function wafer_on_resume(token: i32, status: i32, dataPtr: usize, dataLen: i32): i32 {
  return onResume(token, status, dataPtr, dataLen);
}
