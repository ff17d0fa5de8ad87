//! Request parsing: raw HTTP/1.1, curl -v pastes, HAR and the JSON form.
//!
//! A raw or curl -v request that declares one Content-Length must have a body of exactly
//! that many bytes. The JSON forms give the body as is, so they are not checked.
#![no_main]

use fspiop_guard_core::http::{self, RequestForm, RequestLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = http::parse_request(data, &RequestLimits::default()) else {
        return;
    };
    let _ = request.headers.get("fspiop-source");
    let _ = request.path();

    let framed = matches!(
        http::detect_form(data),
        Some(RequestForm::RawHttp | RequestForm::CurlVerbose)
    );
    if framed && request.headers.count("content-length") == 1 {
        let declared = request.headers.get("content-length").unwrap_or_default();
        let body_len = request.body.as_ref().map_or(0, Vec::len);
        assert_eq!(
            declared.parse::<usize>().ok(),
            Some(body_len),
            "body length differs from Content-Length"
        );
    }
});
