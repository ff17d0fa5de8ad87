//! Base64url as JWS uses it (RFC 7515 §2: unpadded, URL-safe alphabet).
//!
//! Decoding follows the reference validator (Node's `Buffer.from(.., 'base64')`):
//! unused low bits in the last character are ignored, and a final lone character
//! (length ≡ 1 mod 4), which cannot carry a whole byte, is dropped.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Returns true when every byte of `text` is in the base64url alphabet `[A-Za-z0-9_-]`.
pub fn is_base64url(text: &str) -> bool {
    // No early exit: valid input is the common case, and a branch-free fold lets the
    // compiler vectorise the loop.
    text.bytes().fold(true, |valid, b| {
        valid & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_'))
    })
}

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    LENIENT.encode(bytes)
}

/// Appends bytes encoded as unpadded base64url to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    LENIENT.encode_string(bytes, out);
}

/// Decodes unpadded base64url leniently, as Node does. Returns `None` when a character
/// is outside the alphabet; callers check the alphabet first to report it precisely.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let usable = if text.len() % 4 == 1 {
        text.get(..text.len() - 1)?
    } else {
        text
    };
    LENIENT.decode(usable).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decode_ignores_unused_trailing_bits() {
        // "QQ" and "QR" both decode to "A": the last character's low 4 bits are unused.
        assert_eq!(decode("QQ").unwrap(), b"A");
        assert_eq!(decode("QR").unwrap(), b"A");
    }

    #[test]
    fn decode_drops_a_lone_final_character() {
        assert_eq!(decode("QUJDR").unwrap(), b"ABC");
    }

    #[test]
    fn decode_rejects_padding_and_standard_alphabet() {
        assert!(decode("QQ==").is_none());
        assert!(!is_base64url("a+b/"));
    }

    #[test]
    fn encode_is_unpadded_url_safe() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }
}
