//! Public-key parsing (PEM with repairs, DER, JWK) and private-key parsing.
#![no_main]

use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_core::keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = keys::parse_public_key(text) {
        let _ = parsed.key.to_pem();
        let _ = parsed.key.to_jwk();
    }
    let _ = SigningKey::from_pem(text);
});
