//! Chain verification with an arbitrary bundle against a fixed trust anchor, for both
//! purposes and with a name check. A rejection must carry a detail sentence.
#![no_main]

use fspiop_guard_core::pki::chain::{ChainPolicy, Usage, verify_bundle};
use libfuzzer_sys::fuzz_target;

const ANCHOR: &[u8] = include_bytes!("../../crates/core/tests/fixtures/pki/cases/hub-root.pem");
const AT: i64 = 1_778_683_152;

fuzz_target!(|data: &[u8]| {
    for usage in [Usage::ClientAuth, Usage::ServerAuth] {
        let mut policy = ChainPolicy::new(usage);
        policy.expected_name = Some("hub.example".to_owned());
        let report = verify_bundle(data, ANCHOR, AT, &policy);
        assert_eq!(report.verdict.valid, report.verdict.reason.is_none());
        assert!(!report.verdict.detail.is_empty());
    }
});
