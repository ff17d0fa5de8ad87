//! Numeric constants of the proxy-wasm ABI 0.2.1: statuses, log levels, buffer, map,
//! stream and metric types, and the filter actions the guest returns.

/// A `proxy_status_t` value returned by every `env` hostcall.
///
/// The numbers are those of the ABI 0.2.1 specification and of Envoy's `WasmResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Status {
    /// The call succeeded.
    Ok = 0,
    /// The key, buffer, map, queue or function does not exist.
    NotFound = 1,
    /// An argument is invalid, or the object is not available in this callback.
    BadArgument = 2,
    /// A value could not be serialized.
    SerializationFailure = 3,
    /// A value could not be parsed.
    ParseFailure = 4,
    /// An expression is invalid (Envoy's CEL foreign functions).
    BadExpression = 5,
    /// A guest pointer or length lies outside linear memory, or allocation failed.
    InvalidMemoryAccess = 6,
    /// A shared queue has no item.
    Empty = 7,
    /// The compare-and-swap value of shared data does not match.
    CasMismatch = 8,
    /// A result does not match (unused by Envoy's HTTP filter).
    ResultMismatch = 9,
    /// The host failed internally.
    InternalFailure = 10,
    /// An upstream connection was reset; reported by `proxy_get_status` after a failed
    /// HTTP callout.
    BrokenConnection = 11,
    /// The host does not implement the call.
    Unimplemented = 12,
}

impl Status {
    /// Returns the status as the `i32` a hostcall hands back to the guest.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A log level of `proxy_log` and `proxy_get_log_level` (TRACE 0 to CRITICAL 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Level 0.
    Trace,
    /// Level 1.
    Debug,
    /// Level 2; WASI writes to stdout are logged at this level.
    Info,
    /// Level 3.
    Warn,
    /// Level 4; WASI writes to stderr are logged at this level.
    Error,
    /// Level 5.
    Critical,
}

impl LogLevel {
    /// Converts the ABI number; `None` for a value above 5.
    pub fn from_abi(level: u32) -> Option<LogLevel> {
        match level {
            0 => Some(LogLevel::Trace),
            1 => Some(LogLevel::Debug),
            2 => Some(LogLevel::Info),
            3 => Some(LogLevel::Warn),
            4 => Some(LogLevel::Error),
            5 => Some(LogLevel::Critical),
            _ => None,
        }
    }

    /// Returns the ABI number of the level.
    pub fn to_abi(self) -> u32 {
        self as u32
    }
}

/// Buffer ids of `proxy_get_buffer_bytes` and `proxy_set_buffer_bytes`.
pub(crate) mod buffer {
    pub const HTTP_REQUEST_BODY: u32 = 0;
    pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;
    pub const VM_CONFIGURATION: u32 = 6;
    pub const PLUGIN_CONFIGURATION: u32 = 7;
    /// The largest buffer id the ABI defines (FOREIGN_FUNCTION_ARGUMENTS).
    pub const MAX: u32 = 8;
}

/// Map ids of the header map hostcalls.
pub(crate) mod map {
    pub const REQUEST_HEADERS: u32 = 0;
    pub const REQUEST_TRAILERS: u32 = 1;
    pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;
    /// The largest map id the ABI defines.
    pub const MAX: u32 = 7;
}

/// Stream types of `proxy_continue_stream` and `proxy_close_stream`.
pub(crate) mod stream_type {
    pub const HTTP_REQUEST: u32 = 0;
    pub const HTTP_RESPONSE: u32 = 1;
    pub const UPSTREAM: u32 = 3;
}

/// A metric type of `proxy_define_metric`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Type 0: a monotonically increasing count.
    Counter,
    /// Type 1: a value that may go up and down.
    Gauge,
    /// Type 2: recorded samples.
    Histogram,
}

impl MetricKind {
    pub(crate) fn from_abi(kind: u32) -> Option<MetricKind> {
        match kind {
            0 => Some(MetricKind::Counter),
            1 => Some(MetricKind::Gauge),
            2 => Some(MetricKind::Histogram),
            _ => None,
        }
    }
}

/// The action a header, body or trailers callback requests for the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// 0: pass the data on.
    Continue,
    /// 1: stop. In `on_request_headers` Envoy turns it into StopAllIterationAndWatermark
    /// unless `allow_on_headers_stop_iteration` is set; in a body callback it is
    /// StopIterationAndBuffer.
    Pause,
    /// 3 or 4 (StopAllIterationAndBuffer / AndWatermark) or any unknown value.
    StopAll,
}

impl Action {
    pub(crate) fn from_abi(value: i32) -> Action {
        match value {
            // 2 is ContinueAndEndStream, which Envoy treats as a continue for requests.
            0 | 2 => Action::Continue,
            1 => Action::Pause,
            _ => Action::StopAll,
        }
    }
}

/// WASI errno values the host returns.
pub(crate) mod errno {
    pub const SUCCESS: i32 = 0;
    pub const BADF: i32 = 8;
    pub const FAULT: i32 = 21;
    pub const INVAL: i32 = 28;
}

/// WASI clock ids.
pub(crate) mod clock {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
}
