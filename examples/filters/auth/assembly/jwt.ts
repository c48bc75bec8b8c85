// HS256 JSON Web Token verification (RFC 7519 / RFC 7515): the header must say HS256, the
// signature must match, and exp/nbf/iss/aud must hold. Returns the verified claims or a reason.
import {
  base64UrlDecode, constantTimeEqual, hmacSha256, JsonKind, JsonValue, parseJsonData
} from "@wafer/sdk-assemblyscript";

export class JwtOptions {
  secret: Uint8Array = new Uint8Array(0);
  issuer: string | null = null;
  audience: string | null = null;
  leewaySeconds: f64 = 5;
}

export class JwtResult {
  claims: JsonValue | null = null;
  error: string = "";

  static fail(reason: string): JwtResult {
    const r = new JwtResult();
    r.error = reason;
    return r;
  }
}

function decodeJsonSegment(segment: string): JsonValue | null {
  const bytes = base64UrlDecode(segment);
  if (bytes == null) return null;
  const parsed = parseJsonData(bytes);
  const v = parsed.value;
  return v != null && v.isObject ? v : null;
}

function audienceMatches(aud: JsonValue | null, expected: string): bool {
  if (aud == null) return false;
  if (aud.kind == JsonKind.String) return aud.stringValue == expected;
  if (aud.kind != JsonKind.Array) return false;
  for (let i = 0; i < aud.items.length; i++) {
    const a = aud.items[i];
    if (a.kind == JsonKind.String && a.stringValue == expected) return true;
  }
  return false;
}

/** Verifies `token` at time `nowMs`. */
export function verifyJwt(token: string, o: JwtOptions, nowMs: f64): JwtResult {
  const parts = token.split(".");
  if (parts.length != 3) return JwtResult.fail("malformed token");
  const header = decodeJsonSegment(parts[0]);
  if (header == null) return JwtResult.fail("malformed token");
  // Pinning the algorithm defeats "alg":"none" and algorithm-confusion tokens.
  if (header.getString("alg") != "HS256") return JwtResult.fail("unsupported token algorithm");

  const signature = base64UrlDecode(parts[2]);
  if (signature == null) return JwtResult.fail("malformed token");
  const signingInput = Uint8Array.wrap(String.UTF8.encode(parts[0] + "." + parts[1]));
  if (!constantTimeEqual(hmacSha256(o.secret, signingInput), signature)) return JwtResult.fail("invalid token signature");

  const claims = decodeJsonSegment(parts[1]);
  if (claims == null) return JwtResult.fail("malformed token");
  const nowS = nowMs / 1000;
  const exp = claims.get("exp");
  if (exp != null) {
    if (!exp.isNumber) return JwtResult.fail("malformed token");
    if (nowS >= exp.numberValue + o.leewaySeconds) return JwtResult.fail("token expired");
  }
  const nbf = claims.get("nbf");
  if (nbf != null) {
    if (!nbf.isNumber) return JwtResult.fail("malformed token");
    if (nowS + o.leewaySeconds < nbf.numberValue) return JwtResult.fail("token not yet valid");
  }
  const issuer = o.issuer;
  if (issuer != null && claims.getString("iss") != issuer) return JwtResult.fail("invalid token issuer");
  const audience = o.audience;
  if (audience != null && !audienceMatches(claims.get("aud"), audience)) return JwtResult.fail("invalid token audience");

  const r = new JwtResult();
  r.claims = claims;
  return r;
}
