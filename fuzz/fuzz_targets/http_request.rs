//! Request parsing: raw HTTP/1.1, curl -v pastes, HAR and the JSON form.
#![no_main]

use fspiop_guard_core::http::{self, RequestLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = http::parse_request(data, &RequestLimits::default()) {
        let _ = request.headers.get("fspiop-source");
        let _ = request.path();
    }
});
