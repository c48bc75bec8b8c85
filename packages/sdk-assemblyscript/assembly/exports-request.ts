// The ABI exports for a filter with only a request phase (no wafer_on_response, so the host
// never calls it after the route):
//   export * from "@wafer/sdk-assemblyscript/assembly/exports-request";
// asc's `--use abort=...waferAbort` only finds the replacement if this module is loaded from
// a file the entry imports directly.
import "./abort";
import { alloc, init, onRequest, onResume } from "./entry";

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

export function wafer_on_resume(token: i32, status: i32, dataPtr: usize, dataLen: i32): i32 {
  return onResume(token, status, dataPtr, dataLen);
}
