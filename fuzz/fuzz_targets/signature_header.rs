//! FSPIOP-Signature header and protected-header parsing on arbitrary text.
//!
//! Both members of a parsed header passed the base64url alphabet check, so decoding them
//! must not fail for want of valid base64url. A header read by the compact fast path must
//! read the same through the JSON parser, which a leading space forces.
#![no_main]

use fspiop_guard_core::header::SignatureHeader;
use fspiop_guard_core::profile::Limits;
use fspiop_guard_core::verdict::Reason;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let Ok(header) = SignatureHeader::parse(text, &limits) else {
        return;
    };

    let spaced = format!(" {text}");
    if spaced.len() <= limits.max_signature_header_bytes {
        let through_parser = SignatureHeader::parse(&spaced, &limits);
        assert_eq!(through_parser.as_ref(), Ok(&header), "fast path and parser differ");
    }

    if let Err(error) = header.protected(&limits) {
        assert_ne!(
            error.reason,
            Reason::ProtectedHeaderNotBase64url,
            "{error:?}"
        );
    }
    match header.signature() {
        Ok(_) => {}
        Err(error) => assert_eq!(error.reason, Reason::SignatureEmpty, "{error:?}"),
    }
});
