//! Public keys read from X.509 certificates: the key is the certificate's own
//! SubjectPublicKeyInfo, and a damaged certificate is rejected with the field at fault.
//!
//! `certfsp` is an RSA v3 certificate with extensions, `ecv1fsp` an EC P-256 v1
//! certificate with neither a version field nor extensions. Both are self-signed
//! throwaway test certificates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fspiop_guard_core::crypto::encode_pem;
use fspiop_guard_core::keys::{KeyError, KeyFormat, parse_public_key};

const RSA_V3_CERTIFICATE: &str = include_str!("keys/certfsp.cert.pem");
const RSA_V3_PUBLIC_KEY: &str = include_str!("keys/certfsp.pub.pem");
const EC_V1_CERTIFICATE: &str = include_str!("keys/ecv1fsp.cert.pem");
const EC_V1_PUBLIC_KEY: &str = include_str!("keys/ecv1fsp.pub.pem");

/// Decodes the body of a single PEM block.
fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).unwrap()
}

fn certificate_pem(der: &[u8]) -> String {
    encode_pem("CERTIFICATE", der)
}

/// Returns the offset of the first occurrence of `pattern` in `der`.
fn offset_of(der: &[u8], pattern: &[u8]) -> usize {
    der.windows(pattern.len())
        .position(|window| window == pattern)
        .expect("pattern not in the certificate")
}

fn der_error(der: &[u8]) -> String {
    match parse_public_key(&certificate_pem(der)) {
        Err(KeyError::InvalidDer(message)) => message,
        other => panic!("expected an InvalidDer error, got {other:?}"),
    }
}

#[test]
fn rsa_v3_certificate_gives_its_key() {
    let parsed = parse_public_key(RSA_V3_CERTIFICATE).unwrap();
    let public = parse_public_key(RSA_V3_PUBLIC_KEY).unwrap();
    assert_eq!(parsed.format, KeyFormat::CertificatePem);
    assert_eq!(parsed.key.kid(), public.key.kid());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn ec_v1_certificate_gives_its_key() {
    let parsed = parse_public_key(EC_V1_CERTIFICATE).unwrap();
    let public = parse_public_key(EC_V1_PUBLIC_KEY).unwrap();
    assert_eq!(parsed.format, KeyFormat::CertificatePem);
    assert_eq!(parsed.key.kid(), public.key.kid());
}

#[test]
fn trailing_bytes_rejected() {
    let mut der = der_of(EC_V1_CERTIFICATE);
    der.extend_from_slice(&[0x05, 0x00]);
    assert_eq!(
        der_error(&der),
        "X.509 certificate: 2 bytes follow the certificate"
    );
}

#[test]
fn every_truncation_rejected() {
    for certificate in [RSA_V3_CERTIFICATE, EC_V1_CERTIFICATE] {
        let der = der_of(certificate);
        for len in 0..der.len() {
            let input = certificate_pem(&der[..len]);
            assert!(parse_public_key(&input).is_err(), "prefix of {len} bytes");
        }
    }
}

#[test]
fn issuer_with_wrong_tag_names_issuer() {
    let mut der = der_of(EC_V1_CERTIFICATE);
    // issuer: SEQUENCE of 0x2e bytes whose first RDN is a SET of 0x10 bytes.
    let issuer = offset_of(&der, &[0x30, 0x2e, 0x31, 0x10]);
    der[issuer] = 0x31;
    let message = der_error(&der);
    assert!(
        message.starts_with("X.509 certificate: issuer: "),
        "{message}"
    );
}

#[test]
fn version_above_v3_rejected() {
    let mut der = der_of(RSA_V3_CERTIFICATE);
    // version [0] EXPLICIT INTEGER 2 (v3).
    let version = offset_of(&der, &[0xa0, 0x03, 0x02, 0x01, 0x02]);
    der[version + 4] = 0x03;
    let message = der_error(&der);
    assert!(
        message.starts_with("X.509 certificate: version: "),
        "{message}"
    );
}

#[test]
fn validity_with_wrong_time_tag_names_field() {
    let mut der = der_of(RSA_V3_CERTIFICATE);
    // notBefore: UTCTime of 13 characters, 261204194940Z.
    let not_before = offset_of(&der, b"\x17\x0d261204");
    der[not_before] = 0x04;
    let message = der_error(&der);
    assert!(
        message.starts_with("X.509 certificate: validity.notBefore: "),
        "{message}"
    );
}

#[test]
fn impossible_date_rejected() {
    let mut der = der_of(EC_V1_CERTIFICATE);
    // notBefore 2026-12-04 becomes 2026-02-30.
    let not_before = offset_of(&der, b"\x17\x0d261204");
    der[not_before + 4..not_before + 8].copy_from_slice(b"0230");
    assert_eq!(
        der_error(&der),
        "X.509 certificate: validity.notBefore: time is not a valid date and time of day"
    );
}

#[test]
fn leap_day_accepted() {
    let mut der = der_of(EC_V1_CERTIFICATE);
    // notBefore 2026-12-04 becomes 2028-02-29. The signature no longer matches,
    // which is not checked.
    let not_before = offset_of(&der, b"\x17\x0d261204");
    der[not_before + 2..not_before + 8].copy_from_slice(b"280229");
    assert!(parse_public_key(&certificate_pem(&der)).is_ok());
}

#[test]
fn long_form_length_must_be_shortest() {
    let der = der_of(EC_V1_CERTIFICATE);
    // 30 82 01 57 written as 30 83 00 01 57.
    let mut padded = vec![0x30, 0x83, 0x00];
    padded.extend_from_slice(&der[2..]);
    assert_eq!(
        der_error(&padded),
        "X.509 certificate: Certificate: the length is not in its shortest DER form"
    );
}

#[test]
fn indefinite_length_rejected() {
    let mut der = der_of(EC_V1_CERTIFICATE);
    der[1] = 0x80;
    assert_eq!(
        der_error(&der),
        "X.509 certificate: Certificate: indefinite length is not allowed in DER"
    );
}

#[test]
fn missing_signature_value_rejected() {
    let der = der_of(EC_V1_CERTIFICATE);
    // Rebuild the outer SEQUENCE around tbsCertificate and signatureAlgorithm only.
    let tbs_and_algorithm_end = offset_of(&der, &[0x03, 0x49, 0x00]);
    let contents = &der[4..tbs_and_algorithm_end];
    let mut truncated = vec![0x30, 0x82];
    truncated.extend_from_slice(&u16::try_from(contents.len()).unwrap().to_be_bytes());
    truncated.extend_from_slice(contents);
    let message = der_error(&truncated);
    assert!(
        message.starts_with("X.509 certificate: signatureValue: "),
        "{message}"
    );
}

/// Damages each byte of both certificates in several ways and compares with
/// x509-parser. Whatever x509-parser rejects is rejected here too, and where both
/// accept, the key is the same.
///
/// The converse does not hold, because x509-parser lets through some damage that is
/// not valid DER or not a valid certificate. Examples are a primitive SEQUENCE tag,
/// bytes after the last field of a SEQUENCE, version 3, and a BOOLEAN other than 0x00
/// or 0xFF. Such certificates are rejected here.
#[test]
fn damaged_certificates_no_laxer_than_x509_parser() {
    for certificate in [RSA_V3_CERTIFICATE, EC_V1_CERTIFICATE] {
        let der = der_of(certificate);
        for offset in 0..der.len() {
            for mask in [0x01, 0x02, 0x20, 0x80, 0xff] {
                let mut damaged = der.clone();
                damaged[offset] ^= mask;
                let case = format!("offset {offset}, byte {:#04x}", damaged[offset]);
                let ours = parse_public_key(&certificate_pem(&damaged));

                let reference = match x509_parser::parse_x509_certificate(&damaged) {
                    Ok(([], parsed)) => {
                        parse_public_key(&encode_pem("PUBLIC KEY", parsed.public_key().raw)).ok()
                    }
                    _ => None,
                };
                match (ours, reference) {
                    (Ok(ours), Some(reference)) => {
                        assert_eq!(ours.key.kid(), reference.key.kid(), "{case}");
                    }
                    (Ok(_), None) => panic!("{case}: accepted, but x509-parser rejects it"),
                    (Err(_), _) => {}
                }
            }
        }
    }
}
