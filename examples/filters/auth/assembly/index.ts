// Authenticates requests with an API key header or an HS256 JWT bearer token. On success the
// route sees `x-auth-subject` and no credential; on failure the client gets a 401.
import {
  Action, ByteBuffer, Config, constantTimeEqual, Filter, isHeaderName, isHeaderValue, now, registerFilter, Request,
  jsonString, sha256, sha256Into
} from "@wafer/sdk-assemblyscript";
import { JwtOptions, verifyJwt } from "./jwt";
export * from "@wafer/sdk-assemblyscript/assembly/exports-request";

const MODE_API_KEY: i32 = 0;
const MODE_JWT: i32 = 1;
const SUBJECT_HEADER = "x-auth-subject";
const MAX_LEEWAY_SECONDS: f64 = 300;

// The presented key and its digest: read and hashed in place, nothing allocated per request.
const KEY = new ByteBuffer(128);
const DIGEST = new Uint8Array(32);

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function unauthorized(req: Request, challenge: string, reason: string): Action {
  return req.respondJson(401, "{\"error\":" + jsonString(reason) + "}", [["www-authenticate", challenge]]);
}

class Auth extends Filter {
  mode: i32 = MODE_API_KEY;
  header: string = "x-api-key";
  // SHA-256 of each key: comparing fixed-length digests keeps the comparison constant-time
  // even across keys of different lengths.
  keyDigests: Uint8Array[] = [];
  // The subject reported for each key, so later filters (a rate limit) can tell clients apart.
  subjects: string[] = [];
  jwt: JwtOptions = new JwtOptions();

  name(): string {
    return "auth";
  }

  configure(config: Config): string | null {
    const mode = config.getString("mode", "api-key");
    if (mode == "api-key") {
      this.mode = MODE_API_KEY;
      config.allowOnly(["mode", "header", "keys", "subjects"]);
      const header = config.getString("header", this.header);
      if (header == null || !isHeaderName(header)) return "\"header\" must be a header name (an HTTP token)";
      this.header = header;
      const keys = config.getStringArray("keys");
      if (keys == null || keys.length == 0) return "\"keys\" must be a non-empty array of strings";
      const subjects = config.has("subjects") ? config.getStringArray("subjects") : null;
      if (config.has("subjects") && (subjects == null || subjects.length != keys.length)) {
        return "\"subjects\" must be an array of strings, one per entry of \"keys\"";
      }
      for (let i = 0; i < keys.length; i++) {
        if (keys[i].length == 0) return "\"keys\" must not contain an empty string";
        this.keyDigests.push(sha256(utf8(keys[i])));
        const subject = subjects != null ? subjects[i] : "key-" + i.toString();
        if (subject.length == 0 || !isHeaderValue(subject)) return "\"subjects\" must be non-empty header-safe strings";
        this.subjects.push(subject);
      }
      return null;
    }
    if (mode == "jwt") {
      this.mode = MODE_JWT;
      config.allowOnly(["mode", "secret", "issuer", "audience", "leewaySeconds"]);
      const secret = config.getString("secret");
      if (secret == null || secret.length == 0) return "\"secret\" must be a non-empty string (the HS256 key)";
      this.jwt.secret = utf8(secret);
      this.jwt.issuer = config.getString("issuer");
      this.jwt.audience = config.getString("audience");
      this.jwt.leewaySeconds = config.getInteger("leewaySeconds", 5, 0, MAX_LEEWAY_SECONDS);
      return null;
    }
    return "\"mode\" must be \"api-key\" or \"jwt\"";
  }

  onRequest(req: Request): Action {
    return this.mode == MODE_API_KEY ? this.checkApiKey(req) : this.checkJwt(req);
  }

  private checkApiKey(req: Request): Action {
    // The header's bytes as sent; a configured key is compared as its UTF-8 bytes.
    if (!req.headerInto(this.header, KEY.clear())) return unauthorized(req, "ApiKey", "missing api key");
    sha256Into(KEY, DIGEST);
    let found = -1;
    // No early exit: the time taken must not say which key (if any) matched.
    for (let i = 0; i < this.keyDigests.length; i++) {
      if (constantTimeEqual(DIGEST, this.keyDigests[i])) found = i;
    }
    if (found < 0) return unauthorized(req, "ApiKey", "invalid api key");
    req.removeHeader(this.header);
    req.setHeader(SUBJECT_HEADER, this.subjects[found]);
    return Action.Continue;
  }

  private checkJwt(req: Request): Action {
    const authorization = req.header("authorization");
    // RFC 6750 section 3.1: no error code when the request carries no credentials at all.
    if (authorization == null) return unauthorized(req, "Bearer", "missing bearer token");
    if (authorization.length < 7 || authorization.substring(0, 7).toLowerCase() != "bearer ") {
      return unauthorized(req, "Bearer error=\"invalid_request\"", "authorization is not a bearer token");
    }
    const result = verifyJwt(authorization.substring(7).trim(), this.jwt, now());
    const claims = result.claims;
    if (claims == null) return unauthorized(req, "Bearer error=\"invalid_token\"", result.error);
    req.removeHeader("authorization");
    const sub = claims.getString("sub");
    // Always set or remove, so a client can never supply its own subject.
    if (sub != null) {
      if (!isHeaderValue(sub)) return unauthorized(req, "Bearer error=\"invalid_token\"", "invalid token subject");
      req.setHeader(SUBJECT_HEADER, sub);
    } else {
      req.removeHeader(SUBJECT_HEADER);
    }
    return Action.Continue;
  }
}

registerFilter(new Auth());
