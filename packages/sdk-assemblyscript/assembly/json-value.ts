// A parsed JSON value. Used where a whole document must be read (a filter's configuration, a
// JWT's claims).
import { jsonString } from "./json-quote";

export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  /** Array elements, or object member values (parallel to `keys`). */
  items: JsonValue[] = [];
  /** Object member names, in document order. */
  keys: string[] = [];

  static nullValue(): JsonValue {
    return new JsonValue();
  }

  static fromBool(v: bool): JsonValue {
    const j = new JsonValue();
    j.kind = JsonKind.Bool;
    j.boolValue = v;
    return j;
  }

  static fromNumber(v: f64): JsonValue {
    const j = new JsonValue();
    j.kind = JsonKind.Number;
    j.numberValue = v;
    return j;
  }

  static fromString(v: string): JsonValue {
    const j = new JsonValue();
    j.kind = JsonKind.String;
    j.stringValue = v;
    return j;
  }

  static newArray(): JsonValue {
    const j = new JsonValue();
    j.kind = JsonKind.Array;
    return j;
  }

  static newObject(): JsonValue {
    const j = new JsonValue();
    j.kind = JsonKind.Object;
    return j;
  }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get isBool(): bool { return this.kind == JsonKind.Bool; }
  get isNumber(): bool { return this.kind == JsonKind.Number; }
  get isString(): bool { return this.kind == JsonKind.String; }
  get isArray(): bool { return this.kind == JsonKind.Array; }
  get isObject(): bool { return this.kind == JsonKind.Object; }

  /** Member `key` of an object (the last one if repeated), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) != null;
  }

  /** Number of array elements or object members. */
  get length(): i32 {
    return this.items.length;
  }

  /** Array element `index`, or null when out of range or not an array. */
  at(index: i32): JsonValue | null {
    if (this.kind != JsonKind.Array || index < 0 || index >= this.items.length) return null;
    return unchecked(this.items[index]);
  }

  /** The string value, or `fallback` if this is not a string. */
  asString(fallback: string | null = null): string | null {
    return this.kind == JsonKind.String ? this.stringValue : fallback;
  }

  /** The number value, or `fallback` if this is not a number. */
  asNumber(fallback: f64 = NaN): f64 {
    return this.kind == JsonKind.Number ? this.numberValue : fallback;
  }

  /** The boolean value, or `fallback` if this is not a boolean. */
  asBool(fallback: bool = false): bool {
    return this.kind == JsonKind.Bool ? this.boolValue : fallback;
  }

  /** Member `key` as a string, or `fallback` when absent or not a string. */
  getString(key: string, fallback: string | null = null): string | null {
    const v = this.get(key);
    return v != null ? v.asString(fallback) : fallback;
  }

  /** Member `key` as a number, or `fallback` when absent or not a number. */
  getNumber(key: string, fallback: f64 = NaN): f64 {
    const v = this.get(key);
    return v != null ? v.asNumber(fallback) : fallback;
  }

  /** Member `key` as a boolean, or `fallback` when absent or not a boolean. */
  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    return v != null ? v.asBool(fallback) : fallback;
  }

  /** Member `key`'s elements when it is an array, else null. */
  getArray(key: string): JsonValue[] | null {
    const v = this.get(key);
    return v != null && v.kind == JsonKind.Array ? v.items : null;
  }

  /** Member `key` when it is an object, else null. */
  getObject(key: string): JsonValue | null {
    const v = this.get(key);
    return v != null && v.kind == JsonKind.Object ? v : null;
  }

  /** Appends a member (objects) or an element (arrays). */
  set(key: string, value: JsonValue): JsonValue {
    this.keys.push(key);
    this.items.push(value);
    return this;
  }

  push(value: JsonValue): JsonValue {
    this.items.push(value);
    return this;
  }

  /** The value as compact JSON text. */
  toString(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return this.boolValue ? "true" : "false";
      case JsonKind.Number: return numberText(this.numberValue);
      case JsonKind.String: return jsonString(this.stringValue);
      case JsonKind.Array: {
        const parts = new Array<string>(this.items.length);
        for (let i = 0; i < this.items.length; i++) unchecked(parts[i] = unchecked(this.items[i]).toString());
        return "[" + parts.join(",") + "]";
      }
      default: {
        const parts = new Array<string>(this.items.length);
        for (let i = 0; i < this.items.length; i++) {
          unchecked(parts[i] = jsonString(unchecked(this.keys[i])) + ":" + unchecked(this.items[i]).toString());
        }
        return "{" + parts.join(",") + "}";
      }
    }
  }
}

function numberText(n: f64): string {
  if (!isFinite(n)) return "null";
  return n == Math.trunc(n) && Math.abs(n) < 9007199254740992 ? (<i64>n).toString() : n.toString();
}
