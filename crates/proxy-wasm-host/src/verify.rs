//! The `verify_signature` foreign function, implemented natively with ring to the
//! contract of Envoy's `source/extensions/common/wasm/foreign.cc`:
//!
//! * arguments that do not decode as `VerifySignatureArguments`, a key that does not
//!   parse, or both or neither of `public_key` (DER) and `public_key_pem` given →
//!   BAD_ARGUMENT with no result;
//! * otherwise OK with a `VerifySignatureResult`: `result = true` and an empty error on
//!   success, `result = false` and a message on failure.
//!
//! RSA keys verify PKCS#1 v1.5 signatures; EC P-256 and P-384 keys verify ECDSA
//! signatures in ASN.1 DER form. Hash names are matched case-insensitively, as Envoy
//! does.

use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use crate::abi::Status;
use crate::protobuf::{VerifySignatureArguments, VerifySignatureResult};

/// DER content of the rsaEncryption OID, 1.2.840.113549.1.1.1.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER content of the id-ecPublicKey OID, 1.2.840.10045.2.1.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER content of the prime256v1 (P-256) OID, 1.2.840.10045.3.1.7.
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER content of the secp384r1 (P-384) OID, 1.3.132.0.34.
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER content of the id-Ed25519 OID, 1.3.101.112.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// The message Envoy (BoringSSL) reports when a signature does not verify.
const VERIFY_FAILED: &str = "Failed to verify digest. Error code: 0";

/// A public key taken from a SubjectPublicKeyInfo.
#[derive(Debug, PartialEq, Eq)]
enum PublicKey {
    /// An RSAPublicKey DER and the modulus size in bits.
    Rsa { der: Vec<u8>, modulus_bits: usize },
    /// An uncompressed point on P-256.
    P256(Vec<u8>),
    /// An uncompressed point on P-384.
    P384(Vec<u8>),
    /// An Ed25519 key, which BoringSSL parses but cannot use with a digest.
    Ed25519,
}

/// Runs `verify_signature` on serialized `VerifySignatureArguments`.
pub(crate) fn verify_signature(arguments: &[u8]) -> Result<Vec<u8>, Status> {
    let args = VerifySignatureArguments::decode(arguments).map_err(|_| Status::BadArgument)?;
    let key = import_key(&args).ok_or(Status::BadArgument)?;
    let outcome = verify(&key, &args.hash_function, &args.signature, &args.text);
    let result = match outcome {
        Ok(()) => VerifySignatureResult {
            result: true,
            error: String::new(),
        },
        Err(error) => VerifySignatureResult {
            result: false,
            error,
        },
    };
    Ok(result.encode())
}

fn import_key(args: &VerifySignatureArguments) -> Option<PublicKey> {
    match (args.public_key.is_empty(), args.public_key_pem.is_empty()) {
        (false, true) => parse_spki(&args.public_key),
        (true, false) => parse_spki(&pem_to_der(&args.public_key_pem)?),
        // Envoy rejects a request that gives both forms or neither.
        _ => None,
    }
}

fn verify(key: &PublicKey, hash: &str, signature: &[u8], text: &[u8]) -> Result<(), String> {
    let hash = hash.to_ascii_lowercase();
    if !matches!(
        hash.as_str(),
        "sha1" | "sha224" | "sha256" | "sha384" | "sha512"
    ) {
        return Err(format!("{hash} is not supported."));
    }
    let (algorithm, key_bytes): (&'static dyn VerificationAlgorithm, &[u8]) = match key {
        PublicKey::Rsa { der, modulus_bits } => (rsa_algorithm(&hash, *modulus_bits)?, der),
        PublicKey::P256(point) => (ecdsa_algorithm(&hash, 256)?, point),
        PublicKey::P384(point) => (ecdsa_algorithm(&hash, 384)?, point),
        PublicKey::Ed25519 => return Err("Failed to initialize digest verify.".to_string()),
    };
    UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(text, signature)
        .map_err(|_| VERIFY_FAILED.to_string())
}

fn rsa_algorithm(
    hash: &str,
    modulus_bits: usize,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    // ring's general RSA algorithms require 2048-bit keys; its legacy variants accept
    // 1024 bits, and exist only for SHA-1, SHA-256 and SHA-512.
    let legacy = modulus_bits < 2048;
    let algorithm: &'static dyn VerificationAlgorithm = match (hash, legacy) {
        ("sha1", _) => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        ("sha256", false) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("sha256", true) => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        ("sha384", _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("sha512", false) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("sha512", true) => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        // NOTE: Envoy verifies RSA with SHA-224 too; ring has no such algorithm.
        _ => {
            return Err(format!(
                "{hash} with an RSA key is not supported by this host"
            ));
        }
    };
    Ok(algorithm)
}

fn ecdsa_algorithm(
    hash: &str,
    curve_bits: u32,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let algorithm: &'static dyn VerificationAlgorithm = match (curve_bits, hash) {
        (256, "sha256") => &signature::ECDSA_P256_SHA256_ASN1,
        (256, "sha384") => &signature::ECDSA_P256_SHA384_ASN1,
        (384, "sha256") => &signature::ECDSA_P384_SHA256_ASN1,
        (384, "sha384") => &signature::ECDSA_P384_SHA384_ASN1,
        // NOTE: Envoy (BoringSSL) also accepts SHA-1, SHA-224 and SHA-512 with EC keys;
        // ring does not offer those combinations.
        _ => {
            return Err(format!(
                "{hash} with a P-{curve_bits} key is not supported by this host"
            ));
        }
    };
    Ok(algorithm)
}

/// Extracts the DER of the first `PUBLIC KEY` PEM block.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN PUBLIC KEY-----")? + "-----BEGIN PUBLIC KEY-----".len();
    let rest = pem.get(start..)?;
    let end = rest.find("-----END PUBLIC KEY-----")?;
    let body: String = rest
        .get(..end)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Parses a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with an RSA, EC or Ed25519
/// key; anything else, or trailing bytes, gives `None`.
fn parse_spki(der: &[u8]) -> Option<PublicKey> {
    let mut input = der;
    let spki = read_tlv(&mut input, TAG_SEQUENCE)?;
    if !input.is_empty() {
        return None;
    }
    let mut spki_fields = spki;
    let mut algorithm = read_tlv(&mut spki_fields, TAG_SEQUENCE)?;
    let key_bits = read_tlv(&mut spki_fields, TAG_BIT_STRING)?;
    if !spki_fields.is_empty() {
        return None;
    }
    // The first content byte of a BIT STRING counts unused bits; a key has none.
    let (&0, key) = key_bits.split_first()? else {
        return None;
    };
    let oid = read_tlv(&mut algorithm, TAG_OID)?;
    match oid {
        OID_RSA_ENCRYPTION => {
            // The parameters must be NULL or absent.
            if !(algorithm.is_empty() || algorithm == [0x05, 0x00]) {
                return None;
            }
            let modulus_bits = rsa_modulus_bits(key)?;
            Some(PublicKey::Rsa {
                der: key.to_vec(),
                modulus_bits,
            })
        }
        OID_EC_PUBLIC_KEY => {
            let curve = read_tlv(&mut algorithm, TAG_OID)?;
            let point_len = match curve {
                OID_P256 => 65,
                OID_P384 => 97,
                _ => return None,
            };
            if !algorithm.is_empty() || key.len() != point_len || key.first() != Some(&0x04) {
                return None;
            }
            if curve == OID_P256 {
                Some(PublicKey::P256(key.to_vec()))
            } else {
                Some(PublicKey::P384(key.to_vec()))
            }
        }
        OID_ED25519 if algorithm.is_empty() && key.len() == 32 => Some(PublicKey::Ed25519),
        _ => None,
    }
}

/// Returns the size in bits of the modulus of an RSAPublicKey (RFC 8017 §A.1.1).
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let mut input = der;
    let mut fields = read_tlv(&mut input, TAG_SEQUENCE)?;
    if !input.is_empty() {
        return None;
    }
    let modulus = read_tlv(&mut fields, TAG_INTEGER)?;
    let _exponent = read_tlv(&mut fields, TAG_INTEGER)?;
    if !fields.is_empty() {
        return None;
    }
    let significant = match modulus.iter().position(|&b| b != 0) {
        Some(first) => modulus.get(first..)?,
        None => return None,
    };
    let leading = significant.first()?.leading_zeros() as usize;
    Some(significant.len() * 8 - leading)
}

/// Reads one DER element with tag `tag` and returns its content; definite lengths of up
/// to four bytes only.
fn read_tlv<'a>(input: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    let (&actual_tag, rest) = input.split_first()?;
    if actual_tag != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (len_bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (content, after) = rest.split_at_checked(len)?;
    *input = after;
    Some(content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair};

    /// Wraps an uncompressed P-256 point in a SubjectPublicKeyInfo.
    fn p256_spki(point: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![0x06, 0x07];
        algorithm.extend_from_slice(OID_EC_PUBLIC_KEY);
        algorithm.extend_from_slice(&[0x06, 0x08]);
        algorithm.extend_from_slice(OID_P256);
        let mut inner = vec![0x30, algorithm.len() as u8];
        inner.extend_from_slice(&algorithm);
        inner.extend_from_slice(&[0x03, (point.len() + 1) as u8, 0x00]);
        inner.extend_from_slice(point);
        let mut spki = vec![0x30, inner.len() as u8];
        spki.extend_from_slice(&inner);
        spki
    }

    fn p256_key() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap()
    }

    #[test]
    fn p256_spki_parses() {
        let key = p256_key();
        let spki = p256_spki(key.public_key().as_ref());
        assert_eq!(
            parse_spki(&spki),
            Some(PublicKey::P256(key.public_key().as_ref().to_vec()))
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let key = p256_key();
        let mut spki = p256_spki(key.public_key().as_ref());
        spki.push(0);
        assert_eq!(parse_spki(&spki), None);
    }

    #[test]
    fn long_form_length_is_read() {
        let mut input: &[u8] = &[0x04, 0x81, 0x02, 0xaa, 0xbb, 0xcc];
        assert_eq!(read_tlv(&mut input, 0x04), Some(&[0xaa, 0xbb][..]));
        assert_eq!(input, &[0xcc]);
    }

    #[test]
    fn modulus_bits_ignore_sign_byte() {
        // SEQUENCE { INTEGER 0x00 0x80 0x01 (a 16-bit modulus), INTEGER 3 }
        let der = [0x30, 0x08, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x01, 0x03];
        assert_eq!(rsa_modulus_bits(&der), Some(16));
    }

    #[test]
    fn unknown_hash_reports_envoy_message() {
        let key = p256_key();
        let parsed = parse_spki(&p256_spki(key.public_key().as_ref())).unwrap();
        assert_eq!(
            verify(&parsed, "md5", b"", b""),
            Err("md5 is not supported.".to_string())
        );
    }

    #[test]
    fn pem_block_decodes() {
        let key = p256_key();
        let der = p256_spki(key.public_key().as_ref());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        );
        assert_eq!(pem_to_der(&pem), Some(der));
    }
}
