//! The scan used in place of parsing a serialiser's output: whenever it passes a body,
//! the strict body parser must accept that body and find no `__proto__` member.
//!
//! Arbitrary bytes that parse as JSON are first written back with the crate's
//! `JSON.stringify` equivalent, because the scan's contract covers serialiser output only.
#![no_main]

use fspiop_guard_core::body::{parse_body, serialised_passes};
use fspiop_guard_core::json::{self, KeyOrder, Limits};
use libfuzzer_sys::fuzz_target;

const MAX_DEPTH: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 1000,
    };
    let Ok(parsed) = json::parse(text, &limits) else {
        return;
    };
    let serialised = json::stringify(&parsed.value, KeyOrder::Insertion);
    if !serialised_passes(serialised.as_bytes(), MAX_DEPTH) {
        return;
    }
    match parse_body(serialised.as_bytes(), MAX_DEPTH) {
        Ok(body) => assert!(!body.report.proto_key, "scan passed a __proto__ member"),
        Err(error) => panic!("scan passed a body the parser rejects: {error}"),
    }
});
