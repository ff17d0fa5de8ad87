//! Kubernetes duration strings: any text parses or gives an error, and cert-manager's
//! renewal time for a parsed value never overflows.
#![no_main]

use fspiop_guard_core::pki::duration::parse_seconds;
use fspiop_guard_core::pki::expiry::{CertManagerSpec, renewal_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(seconds) = parse_seconds(text) {
        let spec = CertManagerSpec {
            renew_before: Some(seconds),
            ..CertManagerSpec::default()
        };
        let _ = renewal_time(0, 90 * 86_400, &spec, 0);
    }
});
