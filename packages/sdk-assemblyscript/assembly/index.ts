// The public API of @wafer/sdk-assemblyscript. A filter's entry file imports from here and
// re-exports one of the exports*.ts modules to get the ABI entry points.

// asc's `--use abort=...waferAbort` only finds the replacement if its module is loaded from a
// file the entry imports directly (this one or exports*.ts).
import "./abort";

export { Action } from "./action";
export { Filter, registerFilter } from "./filter";
export { Request, RequestView } from "./request";
export { Response } from "./response";
export { currentRequest, currentResponse } from "./call-state";
export { Config } from "./config";
export { JsonKind, JsonValue } from "./json-value";
export { JsonParseResult, parseJson, parseJsonData } from "./json-parse";
export { jsonString } from "./json-quote";
export { kv, KvResult, KvStatus } from "./kv";
export { ByteBuffer } from "./bytes";
export { log } from "./log";
export { now } from "./clock";
export { randomBytes, randomFill, randomUuid } from "./random";
export { isHeaderName, isHeaderValue } from "./ascii";
export {
  base64Decode, base64Encode, base64UrlDecode, base64UrlEncode, constantTimeEqual, hmacSha256, sha256, sha256Into
} from "./crypto";
