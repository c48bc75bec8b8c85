// The numbers of docs/abi.md: fields, header maps, result codes and wafer_init's bits.

// Fields of get/set (section 4)
export const FIELD_METHOD: i32 = 0;
export const FIELD_PATH: i32 = 1;
export const FIELD_QUERY: i32 = 2;
export const FIELD_CLIENT_ADDRESS: i32 = 3;
export const FIELD_REQUEST_ID: i32 = 4;
export const FIELD_REQUEST_BODY: i32 = 5;
export const FIELD_RESPONSE_BODY: i32 = 6;

// Header maps (section 4)
export const MAP_REQUEST: i32 = 0;
export const MAP_RESPONSE: i32 = 1;
export const MAP_LOCAL: i32 = 2;
export const MAP_RESPONSE_ADD: i32 = 3;

// Result codes (section 3)
export const BAD_POINTER: i32 = -1;
export const TOO_LARGE: i32 = -2;
export const UNAVAILABLE: i32 = -3;
export const NOT_FOUND: i32 = -4;
export const INVALID: i32 = -5;
export const OVER_BUDGET: i32 = -6;
export const BAD_ARGUMENT: i32 = -7;

// wafer_init's result bits (section 2)
export const NEEDS_REQUEST_BODY: i32 = 1;
export const NEEDS_RESPONSE_BODY: i32 = 2;
export const SKIP_REQUEST_PHASE: i32 = 4;
export const SKIP_RESPONSE_PHASE: i32 = 8;
