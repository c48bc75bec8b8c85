/**
 * What one guest call may take: the limits every ABI's glue, the sandbox and the runtime share.
 * The types live here, below abi/, runtime/ and sandbox/, so none of those imports another for
 * them; defaults and validation are in config/ (configDefaults.filter.limits, the options schema).
 */

export interface FilterLimits {
  /**
   * Fuel per phase (CPU): the module is instrumented at load to count the work it does, and a
   * request phase (or response phase) that uses more, summed over every guest entry of that
   * phase including resumes, traps. Default 50,000,000; `false` turns metering off.
   */
  fuel?: number | false
  /** Most 64 KiB pages of linear memory; growth past it fails inside the guest. */
  memoryPages?: number
  /**
   * Deadline of one phase of one request, in ms, from the moment the filter first waits on an
   * asynchronous host operation to its answer (all waits and resumes together). Default 10,000.
   */
  timeoutMs?: number
  /** Most `wafer_on_resume` entries in one phase of one request. Default 64. */
  maxResumes?: number
  /** Most bytes the host takes from the guest in one write (a header value, a path, a body). Default 1 MiB. */
  maxOutputBytes?: number
}

export interface ResolvedLimits {
  fuel: number | undefined
  memoryPages: number | undefined
  timeoutMs: number
  maxResumes: number
  maxOutputBytes: number
}
