// Gives every request an id: keeps the client's `x-request-id` if it sent one, otherwise adds
// a random UUID v4, and echoes the id on the response so clients can quote it.
import {
  Action, ByteBuffer, Config, Filter, isHeaderName, registerFilter, Request, Response
} from "@wafer/sdk-assemblyscript";
export * from "@wafer/sdk-assemblyscript/assembly/exports";

// The id, built or copied here: nothing is allocated per request.
const ID = new ByteBuffer(64);

class RequestId extends Filter {
  header: string = "x-request-id";

  name(): string {
    return "request-id";
  }

  configure(config: Config): string | null {
    config.allowOnly(["header"]);
    const header = config.getString("header", this.header);
    if (header == null || !isHeaderName(header)) return "\"header\" must be a header name (an HTTP token)";
    this.header = header;
    return null;
  }

  onRequest(req: Request): Action {
    if (!req.hasHeader(this.header)) req.setHeaderBytes(this.header, ID.clear().appendUuid());
    return Action.Continue;
  }

  onResponse(res: Response): Action {
    // The route may have set its own; otherwise copy the id the route saw.
    if (res.hasHeader(this.header)) return Action.Continue;
    if (res.request.headerInto(this.header, ID.clear())) res.setHeaderBytes(this.header, ID);
    return Action.Continue;
  }
}

registerFilter(new RequestId());
