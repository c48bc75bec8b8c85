import { hostNowMs } from "./host";

/** Wall clock: milliseconds since the Unix epoch (fractional). */
export function now(): f64 {
  return hostNowMs();
}
