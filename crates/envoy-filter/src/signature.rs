//! Signature arithmetic through the proxy's `verify_signature` foreign function, with
//! ring inside the module as the fallback.
//!
//! Envoy registers `verify_signature` (BoringSSL, natively). Its argument is the
//! protobuf message
//!
//! ```text
//! message VerifySignatureArguments {
//!   string hash_function = 1;   // "sha256", "sha384", "sha512"
//!   bytes  public_key    = 2;   // DER SubjectPublicKeyInfo
//!   bytes  signature     = 3;   // RSA PKCS#1 v1.5, or ECDSA as an ASN.1 DER sequence
//!   bytes  text          = 4;   // the signed bytes
//! }
//! message VerifySignatureResult { bool result = 1; string error = 2; }
//! ```
//!
//! Only the arithmetic moves: [`fspiop_guard_core::crypto::precheck`] runs first on
//! both paths, so key type, key size and signature length are judged identically,
//! and the verdict never depends on the path. RSA-PSS has no foreign counterpart and
//! always runs in the module.

use std::cell::Cell;

use fspiop_guard_core::crypto::{self, PublicKey, VerifyError};
use fspiop_guard_core::{Algorithm, RingVerifier, SignatureVerifier};

use crate::config::SignaturePath;

/// Field numbers of `VerifySignatureArguments`.
mod arguments {
    pub const HASH_FUNCTION: u32 = 1;
    pub const PUBLIC_KEY: u32 = 2;
    pub const SIGNATURE: u32 = 3;
    pub const TEXT: u32 = 4;
}

/// Field numbers of `VerifySignatureResult`.
mod result {
    pub const RESULT: u32 = 1;
    pub const ERROR: u32 = 2;
}

/// Protobuf wire types used here.
const WIRE_VARINT: u8 = 0;
const WIRE_LEN: u8 = 2;

/// Appends a base-128 varint.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-delimited field.
fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, (u64::from(field) << 3) | u64::from(WIRE_LEN));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads a varint at `*at`, advancing it.
fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Encodes `VerifySignatureArguments`.
pub fn encode_arguments(hash: &str, spki_der: &[u8], signature: &[u8], text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + spki_der.len() + signature.len() + 32);
    put_bytes(&mut out, arguments::HASH_FUNCTION, hash.as_bytes());
    put_bytes(&mut out, arguments::PUBLIC_KEY, spki_der);
    put_bytes(&mut out, arguments::SIGNATURE, signature);
    put_bytes(&mut out, arguments::TEXT, text);
    out
}

/// A decoded `VerifySignatureResult`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForeignResult {
    /// True when the signature verified.
    pub result: bool,
    /// The proxy's message when it did not.
    pub error: String,
}

/// Decodes `VerifySignatureResult`, skipping unknown fields. Returns `None` for bytes
/// that are not a protobuf message.
pub fn decode_result(bytes: &[u8]) -> Option<ForeignResult> {
    let mut decoded = ForeignResult::default();
    let mut at = 0;
    while at < bytes.len() {
        let tag = get_varint(bytes, &mut at)?;
        let field = u32::try_from(tag >> 3).ok()?;
        match (tag & 7) as u8 {
            WIRE_VARINT => {
                let value = get_varint(bytes, &mut at)?;
                if field == result::RESULT {
                    decoded.result = value != 0;
                }
            }
            WIRE_LEN => {
                let len = usize::try_from(get_varint(bytes, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                let value = bytes.get(at..end)?;
                at = end;
                if field == result::ERROR {
                    decoded.error = String::from_utf8_lossy(value).into_owned();
                }
            }
            // Fixed 64- and 32-bit fields: skip.
            1 => at = at.checked_add(8)?,
            5 => at = at.checked_add(4)?,
            _ => return None,
        }
    }
    (at == bytes.len()).then_some(decoded)
}

/// Converts a JWS ECDSA signature (`r || s`, fixed width) to the ASN.1 DER
/// `ECDSA-Sig-Value` BoringSSL verifies (RFC 7518 §3.4, RFC 5480 §2.2).
pub fn ecdsa_fixed_to_der(signature: &[u8]) -> Vec<u8> {
    let (r, s) = signature.split_at(signature.len() / 2);
    let r = der_integer(r);
    let s = der_integer(s);
    let mut out = Vec::with_capacity(r.len() + s.len() + 3);
    out.push(0x30);
    let len = r.len() + s.len();
    if len >= 0x80 {
        out.push(0x81);
    }
    out.push(len as u8);
    out.extend_from_slice(&r);
    out.extend_from_slice(&s);
    out
}

/// Encodes an unsigned big-endian integer as a DER INTEGER.
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let digits = bytes.get(first..).unwrap_or_default();
    let pad = digits.first().is_none_or(|&b| b & 0x80 != 0);
    let mut out = Vec::with_capacity(digits.len() + 3);
    out.push(0x02);
    out.push((digits.len() + usize::from(pad)) as u8);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

/// Returns the foreign function's hash name for `alg`, or `None` when the function
/// cannot check it (RSA-PSS).
pub fn foreign_hash(alg: Algorithm) -> Option<&'static str> {
    match alg {
        Algorithm::RS256 | Algorithm::ES256 => Some("sha256"),
        Algorithm::RS384 | Algorithm::ES384 => Some("sha384"),
        Algorithm::RS512 => Some("sha512"),
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => None,
    }
}

/// Reason a foreign call returned no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignError {
    /// The proxy has no function of that name.
    Missing,
    /// The proxy refused the arguments or failed.
    Failed,
}

/// Counts signature checks per engine, for the stats.
#[derive(Debug, Default)]
pub struct PathCounts {
    /// Checks made by the foreign function.
    pub foreign: Cell<u64>,
    /// Checks made by ring inside the module.
    pub in_wasm: Cell<u64>,
    /// Foreign calls that failed and fell back (or were rejected, when forced).
    pub foreign_failed: Cell<u64>,
}

/// A [`SignatureVerifier`] that sends the arithmetic to the proxy when it can.
///
/// `call` performs `proxy_call_foreign_function("verify_signature", arguments)`.
pub struct ProxyVerifier<'a, F: Fn(&[u8]) -> Result<Vec<u8>, ForeignError>> {
    /// Engine to use.
    pub path: SignaturePath,
    /// The foreign call.
    pub call: F,
    /// Counters of the checks made.
    pub counts: &'a PathCounts,
}

impl<F: Fn(&[u8]) -> Result<Vec<u8>, ForeignError>> SignatureVerifier for ProxyVerifier<'_, F> {
    fn verify(
        &self,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        crypto::precheck(key, alg, signature)?;

        let hash = match (self.path, foreign_hash(alg)) {
            (SignaturePath::InWasm, _) | (SignaturePath::Auto, None) => {
                return self.in_wasm(key, alg, message, signature);
            }
            // Forced foreign path for an algorithm it cannot check: fail closed, and
            // count it so the caller reports the path rather than the signature.
            (SignaturePath::ForeignFunction, None) => {
                self.counts
                    .foreign_failed
                    .set(self.counts.foreign_failed.get() + 1);
                return Err(VerifyError::BadSignature);
            }
            (_, Some(hash)) => hash,
        };

        let der;
        let wire_signature = if alg.curve().is_some() {
            der = ecdsa_fixed_to_der(signature);
            &der[..]
        } else {
            signature
        };
        let arguments = encode_arguments(hash, key.spki_der(), wire_signature, message);
        match (self.call)(&arguments).map(|bytes| decode_result(&bytes)) {
            Ok(Some(answer)) => {
                self.counts.foreign.set(self.counts.foreign.get() + 1);
                if answer.result {
                    Ok(())
                } else {
                    Err(VerifyError::BadSignature)
                }
            }
            Ok(None) | Err(_) => {
                self.counts
                    .foreign_failed
                    .set(self.counts.foreign_failed.get() + 1);
                match self.path {
                    SignaturePath::ForeignFunction => Err(VerifyError::BadSignature),
                    _ => self.in_wasm(key, alg, message, signature),
                }
            }
        }
    }
}

impl<F: Fn(&[u8]) -> Result<Vec<u8>, ForeignError>> ProxyVerifier<'_, F> {
    fn in_wasm(
        &self,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        self.counts.in_wasm.set(self.counts.in_wasm.get() + 1);
        RingVerifier.verify(key, alg, message, signature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn arguments_encode_with_named_field_numbers() {
        let encoded = encode_arguments("sha256", &[0xAA], &[0xBB, 0xCC], b"t");
        assert_eq!(
            encoded,
            [
                0x0A, 6, b's', b'h', b'a', b'2', b'5', b'6', // 1: hash_function
                0x12, 1, 0xAA, // 2: public_key
                0x1A, 2, 0xBB, 0xCC, // 3: signature
                0x22, 1, b't', // 4: text
            ]
        );
    }

    #[test]
    fn long_fields_use_multi_byte_lengths() {
        let text = vec![7u8; 300];
        let encoded = encode_arguments("sha256", &[], &[], &text);
        let tail = &encoded[encoded.len() - 303..];
        assert_eq!(&tail[..3], &[0x22, 0xAC, 0x02]);
    }

    #[test]
    fn result_decodes_true_and_error_text() {
        assert_eq!(
            decode_result(&[0x08, 0x01]),
            Some(ForeignResult {
                result: true,
                error: String::new()
            })
        );
        let failed = decode_result(&[0x12, 3, b'b', b'a', b'd']).unwrap();
        assert!(!failed.result);
        assert_eq!(failed.error, "bad");
        assert_eq!(decode_result(&[]), Some(ForeignResult::default()));
    }

    #[test]
    fn truncated_result_is_not_decoded() {
        assert_eq!(decode_result(&[0x12, 5, b'x']), None);
        assert_eq!(decode_result(&[0x08]), None);
        assert_eq!(decode_result(&[0x0B]), None);
    }

    /// Converts a DER `ECDSA-Sig-Value` back to `r || s`.
    fn der_to_fixed(der: &[u8], width: usize) -> Option<Vec<u8>> {
        let half = width / 2;
        let mut at = if der[1] & 0x80 != 0 { 3 } else { 2 };
        let mut out = Vec::new();
        for _ in 0..2 {
            assert_eq!(der[at], 0x02);
            let len = usize::from(der[at + 1]);
            let value = &der[at + 2..at + 2 + len];
            let value = value.strip_prefix(&[0]).unwrap_or(value);
            out.resize(out.len() + half - value.len(), 0);
            out.extend_from_slice(value);
            at += 2 + len;
        }
        Some(out)
    }

    #[test]
    fn ecdsa_signature_round_trips_through_der() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero in DER
        raw[31] = 1;
        raw[33] = 0x01; // s has one leading zero byte to strip
        raw[63] = 9;
        let der = ecdsa_fixed_to_der(&raw);
        assert_eq!(der[0], 0x30);
        assert_eq!(der[2], 0x02);
        assert_eq!(der[3], 33);
        assert_eq!(der[4], 0);
        assert_eq!(der_to_fixed(&der, 64).unwrap(), raw);
    }

    #[test]
    fn zero_integer_encodes_as_single_zero_byte() {
        assert_eq!(der_integer(&[0, 0]), vec![0x02, 1, 0]);
    }

    #[test]
    fn p384_signature_with_high_bits_is_padded() {
        let raw = vec![0xFFu8; 96];
        let der = ecdsa_fixed_to_der(&raw);
        assert_eq!(&der[..5], &[0x30, 2 * (2 + 49), 0x02, 49, 0x00]);
        assert_eq!(der_to_fixed(&der, 96).unwrap(), raw);
    }

    #[test]
    fn pss_has_no_foreign_hash() {
        assert_eq!(foreign_hash(Algorithm::PS256), None);
        assert_eq!(foreign_hash(Algorithm::RS384), Some("sha384"));
    }
}
