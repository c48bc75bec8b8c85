// Header reads that see the filter's own changes first: after setHeader/removeHeader in the
// same phase, header() answers with the new state rather than the input's.
import { HEADER_REMOVED, HEADER_SET, HEADER_UNCHANGED, HeaderPatch } from "./header-patch";
import { InputObject } from "./input-object";

export function patchedHeader(patch: HeaderPatch, src: InputObject, name: string): string | null {
  const state = patch.state(name);
  if (state == HEADER_UNCHANGED) return src.header(name);
  if (state == HEADER_REMOVED) return null;
  return patch.values(name).join(", ");
}

export function patchedHeaderValues(patch: HeaderPatch, src: InputObject, name: string): string[] {
  const state = patch.state(name);
  if (state == HEADER_SET) return patch.values(name).slice(0);
  if (state == HEADER_REMOVED) return [];
  return src.headerValues(name);
}

export function patchedHasHeader(patch: HeaderPatch, src: InputObject, name: string): bool {
  const state = patch.state(name);
  if (state == HEADER_SET) return true;
  if (state == HEADER_REMOVED) return false;
  return src.hasHeader(name);
}
