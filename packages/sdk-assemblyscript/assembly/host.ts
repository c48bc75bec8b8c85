// The host imports, exactly as docs/abi.md section 4 declares them. Everything else in the SDK
// reaches the host through these declarations, so a module never imports anything but "wafer".
// asc imports only the functions a filter's code reaches: a filter that never touches the
// key-value store imports no kv_* function.

// Configuration (wafer_init only)
@external("wafer", "config_read")
export declare function hostConfigRead(buf: usize, cap: i32): i32;

@external("wafer", "init_reject")
export declare function hostInitReject(msg: usize, msgLen: i32): i32;

// The request and the reply
@external("wafer", "get")
export declare function hostGet(field: i32, buf: usize, cap: i32): i32;

@external("wafer", "set")
export declare function hostSet(field: i32, ptr: usize, len: i32): i32;

@external("wafer", "status_get")
export declare function hostStatusGet(): i32;

@external("wafer", "status_set")
export declare function hostStatusSet(status: i32): i32;

// Header maps
@external("wafer", "header_get")
export declare function hostHeaderGet(map: i32, name: usize, nameLen: i32, buf: usize, cap: i32): i32;

@external("wafer", "header_values")
export declare function hostHeaderValues(map: i32, name: usize, nameLen: i32, buf: usize, cap: i32): i32;

@external("wafer", "header_names")
export declare function hostHeaderNames(map: i32, buf: usize, cap: i32): i32;

@external("wafer", "header_set")
export declare function hostHeaderSet(map: i32, name: usize, nameLen: i32, value: usize, valueLen: i32): i32;

@external("wafer", "header_add")
export declare function hostHeaderAdd(map: i32, name: usize, nameLen: i32, value: usize, valueLen: i32): i32;

@external("wafer", "header_remove")
export declare function hostHeaderRemove(map: i32, name: usize, nameLen: i32): i32;

// Answering locally
@external("wafer", "respond")
export declare function hostRespond(status: i32, body: usize, bodyLen: i32): i32;

// Host services
@external("wafer", "log")
export declare function hostLog(level: i32, msg: usize, msgLen: i32): i32;

@external("wafer", "now_ms")
export declare function hostNowMs(): f64;

@external("wafer", "random_fill")
export declare function hostRandomFill(buf: usize, len: i32): i32;

// The key-value store: each takes a 24-byte result record (see kv.ts)
@external("wafer", "kv_get")
export declare function hostKvGet(key: usize, keyLen: i32, buf: usize, cap: i32, result: usize): i32;

@external("wafer", "kv_set")
export declare function hostKvSet(key: usize, keyLen: i32, value: usize, valueLen: i32, ttlMs: i32, result: usize): i32;

@external("wafer", "kv_incr")
export declare function hostKvIncr(key: usize, keyLen: i32, delta: i32, ttlMs: i32, result: usize): i32;

@external("wafer", "kv_del")
export declare function hostKvDel(key: usize, keyLen: i32, result: usize): i32;
