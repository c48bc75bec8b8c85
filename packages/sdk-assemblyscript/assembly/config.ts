// The filter's configuration, as handed to Filter.configure(). Getters return the fallback when
// a field is absent, but a field that is present with the wrong type is never silently
// replaced: the getter records an error naming the field, and wafer_init rejects the config
// with it even if configure() itself returned null.
import { JsonKind, JsonValue } from "./json-value";

const MAX_SAFE_INTEGER: f64 = 9007199254740991;

class ConfigErrors {
  first: string | null = null;
}

export class Config {
  private constructor(
    /** The raw JSON value of this (sub-)configuration. */
    readonly value: JsonValue,
    private path: string,
    private errors: ConfigErrors
  ) {}

  static root(value: JsonValue): Config {
    return new Config(value, "", new ConfigErrors());
  }

  /** The first recorded error, or null. */
  get error(): string | null {
    return this.errors.first;
  }

  /** Records an error (the first one wins) and returns it. */
  fail(message: string): string {
    if (this.errors.first == null) this.errors.first = message;
    return message;
  }

  /** The quoted dotted path of `key`, for messages: `"prefix.from"`. */
  describe(key: string): string {
    return "\"" + this.path + key + "\"";
  }

  has(key: string): bool {
    return this.value.get(key) != null;
  }

  get(key: string): JsonValue | null {
    return this.value.get(key);
  }

  /** Member names, in document order. */
  keys(): string[] {
    return this.value.keys;
  }

  /** Records an error for the first member whose name is not in `allowed` (catches typos). */
  allowOnly(allowed: string[]): bool {
    const keys = this.value.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = unchecked(keys[i]);
      if (!allowed.includes(k)) {
        this.fail("unknown field " + this.describe(k) + " (expected one of: " + allowed.join(", ") + ")");
        return false;
      }
    }
    return true;
  }

  getString(key: string, fallback: string | null = null): string | null {
    const v = this.value.get(key);
    if (v == null) return fallback;
    if (v.kind == JsonKind.String) return v.stringValue;
    this.fail(this.describe(key) + " must be a string");
    return fallback;
  }

  getNumber(key: string, fallback: f64 = NaN): f64 {
    const v = this.value.get(key);
    if (v == null) return fallback;
    if (v.kind == JsonKind.Number) return v.numberValue;
    this.fail(this.describe(key) + " must be a number");
    return fallback;
  }

  /** Like getNumber, but also requires a whole number within [min, max]. */
  getInteger(key: string, fallback: f64, min: f64 = -MAX_SAFE_INTEGER, max: f64 = MAX_SAFE_INTEGER): f64 {
    const v = this.value.get(key);
    if (v == null) return fallback;
    const n = v.asNumber();
    if (v.kind != JsonKind.Number || n != Math.trunc(n) || n < min || n > max) {
      const range = max >= MAX_SAFE_INTEGER
        ? " of at least " + formatNumber(min)
        : " from " + formatNumber(min) + " to " + formatNumber(max);
      this.fail(this.describe(key) + " must be an integer" + range);
      return fallback;
    }
    return n;
  }

  getBool(key: string, fallback: bool = false): bool {
    const v = this.value.get(key);
    if (v == null) return fallback;
    if (v.kind == JsonKind.Bool) return v.boolValue;
    this.fail(this.describe(key) + " must be true or false");
    return fallback;
  }

  getArray(key: string): JsonValue[] | null {
    const v = this.value.get(key);
    if (v == null) return null;
    if (v.kind == JsonKind.Array) return v.items;
    this.fail(this.describe(key) + " must be an array");
    return null;
  }

  /** An array whose elements must all be strings; null when absent or invalid. */
  getStringArray(key: string): string[] | null {
    const v = this.value.get(key);
    if (v == null) return null;
    const bad = this.describe(key) + " must be an array of strings";
    if (v.kind != JsonKind.Array) {
      this.fail(bad);
      return null;
    }
    const out: string[] = [];
    for (let i = 0; i < v.items.length; i++) {
      const item = unchecked(v.items[i]);
      if (item.kind != JsonKind.String) {
        this.fail(bad);
        return null;
      }
      out.push(item.stringValue);
    }
    return out;
  }

  /** A nested object as a Config sharing this one's error; null when absent or invalid. */
  getObject(key: string): Config | null {
    const v = this.value.get(key);
    if (v == null) return null;
    if (v.kind != JsonKind.Object) {
      this.fail(this.describe(key) + " must be an object");
      return null;
    }
    return new Config(v, this.path + key + ".", this.errors);
  }
}

function formatNumber(n: f64): string {
  return n == Math.trunc(n) && Math.abs(n) < 9007199254740992 ? (<i64>n).toString() : n.toString();
}
