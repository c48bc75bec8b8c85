// Gives every request an id: keeps the client's `x-request-id` if it sent one, otherwise adds
// a random UUID v4, and echoes the id on the response so clients can quote it.
import {
  Action, Config, Filter, isHeaderName, randomBytes, registerFilter, Request, Response
} from "@wafer/sdk-assemblyscript";
export * from "@wafer/sdk-assemblyscript/assembly/exports";

const HEX = "0123456789abcdef";

// RFC 9562 section 5.4: 122 random bits, version 4, variant 10.
function uuidV4(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += "-";
    s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 0x0f);
  }
  return s;
}

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
    if (!req.hasHeader(this.header)) req.setHeader(this.header, uuidV4());
    return Action.Continue;
  }

  onResponse(res: Response): Action {
    // The route may have set its own; otherwise copy the id the route saw.
    if (res.hasHeader(this.header)) return Action.Continue;
    const id = res.request.header(this.header);
    if (id != null) res.setHeader(this.header, id);
    return Action.Continue;
  }
}

registerFilter(new RequestId());
