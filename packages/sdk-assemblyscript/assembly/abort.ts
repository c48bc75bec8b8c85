// AssemblyScript's abort() would otherwise import env.abort, which the host refuses (only the
// "wafer" module may be imported). Guests are built with
//   --use abort=~lib/@wafer/sdk-assemblyscript/assembly/abort/waferAbort
// so a failed assertion or an out-of-memory becomes an error log line plus a trap, which the
// host reports as WAFER_ERR_FILTER_TRAP.
import { hostLog } from "./host";

const LEVEL_ERROR: i32 = 4;

export function waferAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0
): void {
  let text = message != null ? message : "abort";
  if (fileName != null) text += " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
  const bytes = String.UTF8.encode(text);
  hostLog(LEVEL_ERROR, changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}
