//! The whole verifier on arbitrary requests, with the four example participants' keys
//! (three RSA, one EC) configured, so the validly signed requests in `examples/requests/` pass
//! the signature check and reach the binding, request-line and `Date` checks.
#![no_main]

use std::sync::LazyLock;

use fspiop_guard_core::http::{self, RequestLimits};
use fspiop_guard_core::{KeyStore, Profile, RequestRules, RingVerifier, VerifyContext, verify};
use libfuzzer_sys::fuzz_target;

const KEYS: [(&str, &str); 4] = [
    ("payerfsp", include_str!("../../examples/keys/payerfsp.pem")),
    ("payeefsp", include_str!("../../examples/keys/payeefsp.pem")),
    ("switch", include_str!("../../examples/keys/switch.pem")),
    ("ecfsp", include_str!("../../examples/keys/ecfsp.pem")),
];

/// Wed, 13 May 2026 14:39:12 GMT, the `Date` of the example requests, in unix seconds.
const SIGNED_AT: i64 = 1_778_683_152;

static KEY_STORE: LazyLock<KeyStore> = LazyLock::new(|| {
    let mut keys = KeyStore::new();
    for (participant, pem) in KEYS {
        // A key that fails to parse is recorded as unusable, which the verifier reports.
        let _ = keys.insert_pem(participant, pem);
    }
    keys
});

/// The built-in profiles, plus the strict one with a five-minute `Date` window. Only the
/// SDK profile applies the default request rules, so GET and DELETE requests still reach
/// the signature checks under the other two.
static PROFILES: LazyLock<Vec<(Profile, Option<RequestRules>)>> = LazyLock::new(|| {
    let mut dated = Profile::strict();
    dated.date_window_secs = Some(300);
    vec![
        (Profile::mojaloop_sdk(), Some(RequestRules::default())),
        (Profile::strict(), None),
        (dated, None),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(request) = http::parse_request(data, &RequestLimits::default()) else {
        return;
    };
    for (profile, rules) in PROFILES.iter() {
        let ctx = VerifyContext {
            profile,
            keys: &KEY_STORE,
            rules: rules.as_ref(),
            now: SIGNED_AT,
            crypto: &RingVerifier,
        };
        let verdict = verify(&request, &ctx);
        let _ = verdict.message();
    }
});
