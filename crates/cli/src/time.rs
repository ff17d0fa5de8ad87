//! Time for `--at`: the clock, and RFC 3339 parsing from the core.

use std::time::{SystemTime, UNIX_EPOCH};

/// Returns the current time in unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

/// Parses an RFC 3339 time or an HTTP date into unix seconds.
pub use fspiop_guard_core::rfc3339::parse as parse_rfc3339;
