//! The CSR policy check: any input gives a verdict, and a valid verdict has every check
//! passed.
#![no_main]

use fspiop_guard_core::pki::csr::{CsrPolicy, check_csr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = check_csr(data, &CsrPolicy::mcm());
    if report.verdict.valid {
        assert!(report.checks.iter().all(|check| check.passed));
    }
});
