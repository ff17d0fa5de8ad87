//! FSPIOP-Signature header and protected-header parsing on arbitrary text.
#![no_main]

use fspiop_guard_core::header::SignatureHeader;
use fspiop_guard_core::profile::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    if let Ok(header) = SignatureHeader::parse(text, &limits) {
        let _ = header.protected(&limits);
        let _ = header.signature();
    }
});
