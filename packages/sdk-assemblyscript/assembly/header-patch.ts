// Header changes made during one phase, written as the patch's `setHeaders` and `removeHeaders`.
// The host applies removals before sets; keeping a name in only one of the two lists makes the
// outcome follow the order of the filter's own calls (last call wins) regardless.
import { asciiLower } from "./ascii";
import { JsonWriter } from "./json-writer";

export const HEADER_UNCHANGED: i32 = 0;
export const HEADER_SET: i32 = 1;
export const HEADER_REMOVED: i32 = 2;

export class HeaderPatch {
  private setNames: string[] = [];
  private setValues: Array<string[]> = [];
  // True where the value was set as a list and must be written as a JSON array.
  private setAsList: bool[] = [];
  private removed: string[] = [];

  get isEmpty(): bool {
    return this.setNames.length == 0 && this.removed.length == 0;
  }

  reset(): void {
    if (this.setNames.length != 0) {
      this.setNames.length = 0;
      this.setValues.length = 0;
      this.setAsList.length = 0;
    }
    if (this.removed.length != 0) this.removed.length = 0;
  }

  set(name: string, values: string[], asList: bool): void {
    const key = asciiLower(name);
    const r = this.removed.indexOf(key);
    if (r >= 0) this.removed.splice(r, 1);
    const i = this.setNames.indexOf(key);
    if (i >= 0) {
      this.setValues[i] = values;
      this.setAsList[i] = asList;
      return;
    }
    this.setNames.push(key);
    this.setValues.push(values);
    this.setAsList.push(asList);
  }

  remove(name: string): void {
    const key = asciiLower(name);
    const i = this.setNames.indexOf(key);
    if (i >= 0) {
      this.setNames.splice(i, 1);
      this.setValues.splice(i, 1);
      this.setAsList.splice(i, 1);
    }
    if (!this.removed.includes(key)) this.removed.push(key);
  }

  /** HEADER_SET, HEADER_REMOVED or HEADER_UNCHANGED for `name`. */
  state(name: string): i32 {
    if (this.isEmpty) return HEADER_UNCHANGED;
    const key = asciiLower(name);
    if (this.setNames.includes(key)) return HEADER_SET;
    if (this.removed.includes(key)) return HEADER_REMOVED;
    return HEADER_UNCHANGED;
  }

  /** The values set for `name` (only meaningful when state(name) is HEADER_SET). */
  values(name: string): string[] {
    const i = this.setNames.indexOf(asciiLower(name));
    return i >= 0 ? unchecked(this.setValues[i]) : [];
  }

  /** Writes the `setHeaders` and `removeHeaders` members, each only when non-empty. */
  write(w: JsonWriter): void {
    this.writeSets(w, "setHeaders");
    if (this.removed.length != 0) w.key("removeHeaders").strings(this.removed);
  }

  /** Writes the headers set as member `key` (an object of name -> value), when there are any. */
  writeSets(w: JsonWriter, key: string): void {
    if (this.setNames.length != 0) {
      w.key(key).beginObject();
      for (let i = 0; i < this.setNames.length; i++) {
        w.key(unchecked(this.setNames[i]));
        const values = unchecked(this.setValues[i]);
        if (unchecked(this.setAsList[i])) w.strings(values);
        else w.string(values.length != 0 ? unchecked(values[0]) : "");
      }
      w.endObject();
    }
  }
}
