//! Public-key parsing (PEM with repairs, DER, JWK) and private-key parsing.
//!
//! A key that parses must parse again from its own PEM and JWK encodings to the same
//! kid, and a private key must yield the same public key through both parsers.
#![no_main]

use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_core::keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let public = keys::parse_public_key(text).ok();
    if let Some(parsed) = &public {
        let kid = parsed.key.kid();
        for encoded in [parsed.key.to_pem(), parsed.key.to_jwk()] {
            match keys::parse_public_key(&encoded) {
                Ok(again) => assert_eq!(
                    again.key.kid(),
                    kid,
                    "re-parsed key has another kid: {encoded}"
                ),
                Err(error) => panic!("re-encoded key failed to parse: {error}: {encoded}"),
            }
        }
    }
    if let (Ok(signing), Some(parsed)) = (SigningKey::from_pem(text), &public) {
        assert_eq!(
            signing.public_key().kid(),
            parsed.key.kid(),
            "SigningKey::from_pem and parse_public_key give different public keys"
        );
    }
});
