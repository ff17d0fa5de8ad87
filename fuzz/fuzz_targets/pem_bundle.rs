//! The PEM bundle reader and certificate inspection.
//!
//! Every block the reader returns as a certificate is inspected; inspection may reject
//! the DER but must not panic. A bundle read twice gives the same blocks.
#![no_main]

use fspiop_guard_core::pki::inspect::{inspect_certificate, inspect_csr};
use fspiop_guard_core::pki::pem::read_bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = read_bundle(data) else {
        return;
    };
    for der in bundle.certificates() {
        let _ = inspect_certificate(der);
    }
    for der in bundle.certificate_requests() {
        let _ = inspect_csr(der);
    }
    let again = read_bundle(data).map(|second| second.blocks.len());
    assert_eq!(again, Ok(bundle.blocks.len()), "a second read gives other blocks");
});
