//! The whole verifier on arbitrary requests, with one RSA and one EC key configured.
#![no_main]

use fspiop_guard_core::http::{self, RequestLimits};
use fspiop_guard_core::{KeyStore, Profile, RingVerifier, VerifyContext, verify};
use libfuzzer_sys::fuzz_target;

const RSA: &str = include_str!("../../examples/keys/payerfsp.pem");
const EC: &str = include_str!("../../examples/keys/ecfsp.pem");

fuzz_target!(|data: &[u8]| {
    let Ok(request) = http::parse_request(data, &RequestLimits::default()) else { return };
    let mut keys = KeyStore::new();
    let _ = keys.insert_pem("payerfsp", RSA);
    let _ = keys.insert_pem("ecfsp", EC);
    for profile in [Profile::mojaloop_sdk(), Profile::strict()] {
        let ctx = VerifyContext { profile: &profile, keys: &keys, rules: None, now: 0, crypto: &RingVerifier };
        let verdict = verify(&request, &ctx);
        let _ = verdict.message();
    }
});
