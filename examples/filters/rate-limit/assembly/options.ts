// The rate-limit filter's configuration, validated once in configure().
import { Config, isHeaderName } from "@wafer/sdk-assemblyscript";

export const FIXED_WINDOW: i32 = 0;
export const TOKEN_BUCKET: i32 = 1;

const MAX_SAFE: f64 = 9007199254740991;
// The store takes a TTL as a 32-bit number of milliseconds (about 24.8 days).
const MAX_WINDOW_MS: f64 = 2147483647;

export class Options {
  algorithm: i32 = FIXED_WINDOW;
  limit: f64 = 0;
  windowMs: f64 = 60000;
  /** Header whose value identifies the client; "" to use the client address. */
  keyHeader: string = "";
  burst: f64 = 0;
  refillPerSecond: f64 = 0;
}

/** Fills `o` from `config`; returns an error message or null. */
export function readOptions(config: Config, o: Options): string | null {
  config.allowOnly(["algorithm", "limit", "windowMs", "key", "burst", "refillPerSecond"]);

  const algorithm = config.getString("algorithm", "fixed-window");
  if (algorithm == "fixed-window") o.algorithm = FIXED_WINDOW;
  else if (algorithm == "token-bucket") o.algorithm = TOKEN_BUCKET;
  else return "\"algorithm\" must be \"fixed-window\" or \"token-bucket\"";

  o.limit = config.getInteger("limit", 0, 1, MAX_SAFE);
  o.windowMs = config.getInteger("windowMs", 60000, 1, MAX_WINDOW_MS);

  const key = config.getString("key", "ip");
  if (key == null) return null; // type error already recorded
  if (key.startsWith("header:")) {
    o.keyHeader = key.substring(7);
    if (!isHeaderName(o.keyHeader)) return "\"key\" must be \"ip\" or \"header:<name>\" with a valid header name";
  } else if (key != "ip") {
    return "\"key\" must be \"ip\" or \"header:<name>\"";
  }

  if (o.algorithm == FIXED_WINDOW) {
    if (config.has("burst") || config.has("refillPerSecond")) {
      return "\"burst\" and \"refillPerSecond\" only apply to \"algorithm\": \"token-bucket\"";
    }
    if (o.limit == 0) return "\"limit\" is required: an integer from 1 (requests per window)";
    return null;
  }

  o.burst = config.getInteger("burst", o.limit, 1, MAX_SAFE);
  if (o.burst == 0) return "\"burst\" (or \"limit\") is required for token-bucket: an integer from 1";
  if (config.has("refillPerSecond")) {
    o.refillPerSecond = config.getNumber("refillPerSecond", 0);
    if (!(o.refillPerSecond > 0) || !isFinite(o.refillPerSecond)) return "\"refillPerSecond\" must be a number above 0";
  } else if (o.limit != 0) {
    o.refillPerSecond = o.limit * 1000 / o.windowMs;
  } else {
    return "\"refillPerSecond\" (or \"limit\" with \"windowMs\") is required for token-bucket";
  }
  return null;
}
