// The class a filter author extends. Every method has a default, so a filter overrides only the
// phases it cares about; registerFilter() makes the instance the one the entry points call.
import { Action } from "./action";
import { Config } from "./config";
import { KvResult } from "./kv";
import { Request } from "./request";
import { Response } from "./response";

export class Filter {
  /** Prefixed to configuration errors, e.g. `auth: "keys" must be ...`. */
  name(): string {
    return "";
  }

  /** Reads the configuration; returns an error message to reject it, null to accept. */
  configure(config: Config): string | null {
    return null;
  }

  /** True if onRequest needs `req.body` (the host then waits for the body). */
  needsRequestBody(): bool {
    return false;
  }

  /** True if onResponse needs `res.body`. */
  needsResponseBody(): bool {
    return false;
  }

  /**
   * False when, with the configuration it was given, onRequest would never do anything: the
   * host then never calls it. Decided once, after configure().
   */
  handlesRequest(): bool {
    return true;
  }

  /** Like handlesRequest(), for onResponse. */
  handlesResponse(): bool {
    return true;
  }

  onRequest(req: Request): Action {
    return Action.Continue;
  }

  onResponse(res: Response): Action {
    return Action.Continue;
  }

  /**
   * The result of a kv operation that the store answered later (kv.pending() was true when it
   * started; `token` is what kv.token() said then). `result` is valid until this returns.
   * Return Pause to keep waiting, or Continue/Respond to finish the phase;
   * currentRequest()/currentResponse() (or the object given to onRequest/onResponse) still hold
   * the message and its changes.
   */
  onKvResult(token: i32, result: KvResult): Action {
    return Action.Continue;
  }
}

let registered: Filter | null = null;

/** Makes `filter` the module's filter. Call once, at the top level of the entry file. */
export function registerFilter(filter: Filter): void {
  registered = filter;
}

export function registeredFilter(): Filter {
  if (registered == null) {
    abort("no filter registered: call registerFilter(new MyFilter()) at the top level of the entry file");
  }
  return changetype<Filter>(registered);
}
