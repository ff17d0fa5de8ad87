//! Bearer JWT verification and the unverified time reader over arbitrary text, with an
//! empty key store and with the committed RSA key. Nothing may be accepted without a key.
#![no_main]

use fspiop_guard_core::KeyStore;
use fspiop_guard_core::jwt::{JwtPolicy, read_times_unverified, verify_jwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = read_times_unverified(token);
    let policy = JwtPolicy {
        participant: Some("hub".to_owned()),
        ..JwtPolicy::default()
    };
    assert!(verify_jwt(token, &KeyStore::new(), 1_778_683_152, &policy).is_err());
});
