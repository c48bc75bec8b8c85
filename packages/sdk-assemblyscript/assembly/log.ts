// Log lines go to the application's pino logger with the filter's name and the request id.
import { hostLog } from "./host";

function write(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(bytes), bytes.byteLength);
}

export namespace log {
  export function trace(message: string): void { write(0, message); }
  export function debug(message: string): void { write(1, message); }
  export function info(message: string): void { write(2, message); }
  export function warn(message: string): void { write(3, message); }
  export function error(message: string): void { write(4, message); }
}
