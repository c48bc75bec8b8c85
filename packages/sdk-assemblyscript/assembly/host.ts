// The host imports, exactly as docs/abi.md section 3 declares them. Everything else in the SDK
// reaches the host through these declarations, so a module never imports anything but "wafer".

@external("wafer", "output")
export declare function hostOutput(ptr: usize, len: i32): i32;

@external("wafer", "log")
export declare function hostLog(level: i32, ptr: usize, len: i32): i32;

@external("wafer", "now_ms")
export declare function hostNowMs(): f64;

@external("wafer", "random_fill")
export declare function hostRandomFill(ptr: usize, len: i32): i32;

@external("wafer", "kv_get")
export declare function hostKvGet(keyPtr: usize, keyLen: i32): i32;

@external("wafer", "kv_set")
export declare function hostKvSet(keyPtr: usize, keyLen: i32, valuePtr: usize, valueLen: i32, ttlMs: f64): i32;

@external("wafer", "kv_incr")
export declare function hostKvIncr(keyPtr: usize, keyLen: i32, delta: f64, ttlMs: f64): i32;

@external("wafer", "kv_del")
export declare function hostKvDel(keyPtr: usize, keyLen: i32): i32;
