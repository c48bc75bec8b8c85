// Log lines go to the application's pino logger with the filter's name and the request id.
// The message is encoded into the SDK's value buffer: logging allocates nothing.
import { hostLog } from "./host";
import { valueBuffer } from "./scratch";
import { putUtf8 } from "./text";

function write(level: i32, message: string): void {
  const n = putUtf8(message);
  hostLog(level, valueBuffer(0), n);
}

export namespace log {
  export function trace(message: string): void { write(0, message); }
  export function debug(message: string): void { write(1, message); }
  export function info(message: string): void { write(2, message); }
  export function warn(message: string): void { write(3, message); }
  export function error(message: string): void { write(4, message); }
}
