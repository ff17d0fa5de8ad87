//! DER encoding of the two SubjectPublicKeyInfo shapes whose bytes give a key its kid.
//!
//! The layouts are those of RFC 5280 section 4.1 with the algorithm identifiers of
//! RFC 3279 section 2.3: `rsaEncryption` with NULL parameters around a PKCS #1
//! RSAPublicKey, and `id-ecPublicKey` with the named curve around an uncompressed
//! point. Writing the bytes here, instead of through the `der` crate's generic
//! encoders, keeps DER encoding out of the Envoy filter module.

use der::asn1::ObjectIdentifier;

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const NULL: u8 = 0x05;
const OBJECT_IDENTIFIER: u8 = 0x06;
const SEQUENCE: u8 = 0x30;

/// Returns the SPKI of an RSA key. `modulus` and `exponent` are big-endian with no
/// leading zero byte.
pub(super) fn rsa(modulus: &[u8], exponent: &[u8], algorithm: ObjectIdentifier) -> Vec<u8> {
    let mut integers = Vec::with_capacity(modulus.len() + exponent.len() + 12);
    write_unsigned_integer(&mut integers, modulus);
    write_unsigned_integer(&mut integers, exponent);
    let mut public_key = Vec::with_capacity(integers.len() + 4);
    write_element(&mut public_key, SEQUENCE, &integers);

    let mut identifier = Vec::with_capacity(16);
    write_element(&mut identifier, OBJECT_IDENTIFIER, algorithm.as_bytes());
    write_element(&mut identifier, NULL, &[]);
    spki(&identifier, &public_key)
}

/// Returns the SPKI of an EC key with the uncompressed point `point`.
pub(super) fn ec(point: &[u8], algorithm: ObjectIdentifier, curve: ObjectIdentifier) -> Vec<u8> {
    let mut identifier = Vec::with_capacity(24);
    write_element(&mut identifier, OBJECT_IDENTIFIER, algorithm.as_bytes());
    write_element(&mut identifier, OBJECT_IDENTIFIER, curve.as_bytes());
    spki(&identifier, point)
}

/// Wraps an algorithm identifier's contents and the key bytes in the SPKI SEQUENCE.
fn spki(identifier: &[u8], key: &[u8]) -> Vec<u8> {
    // A BIT STRING starts with its count of unused bits, none here.
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key);

    let mut contents = Vec::with_capacity(identifier.len() + bits.len() + 8);
    write_element(&mut contents, SEQUENCE, identifier);
    write_element(&mut contents, BIT_STRING, &bits);
    let mut out = Vec::with_capacity(contents.len() + 4);
    write_element(&mut out, SEQUENCE, &contents);
    out
}

/// Writes a non-negative INTEGER given as big-endian bytes with no leading zero. DER
/// prefixes a zero byte when the top bit is set, so the number does not read as
/// negative.
fn write_unsigned_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    match magnitude.first() {
        Some(&first) if first >= 0x80 => {
            write_header(out, INTEGER, magnitude.len() + 1);
            out.push(0);
            out.extend_from_slice(magnitude);
        }
        Some(_) => write_element(out, INTEGER, magnitude),
        None => write_element(out, INTEGER, &[0]),
    }
}

fn write_element(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    write_header(out, tag, contents.len());
    out.extend_from_slice(contents);
}

/// Writes a tag and a length in the shortest DER form: one byte below 128,
/// otherwise 0x80 plus the count of length bytes that follow.
fn write_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if let Ok(short) = u8::try_from(len)
        && short < 0x80
    {
        out.push(short);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    // At most size_of::<usize>() bytes, so the count fits in the low seven bits.
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use der::Encode;
    use der::asn1::{AnyRef, BitStringRef, UintRef};
    use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

    use super::*;

    const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

    /// Encodes with the `der` crate, as key parsing did before this module.
    fn with_der_crate(algorithm: AlgorithmIdentifierRef<'_>, key: &[u8]) -> Vec<u8> {
        SubjectPublicKeyInfoRef {
            algorithm,
            subject_public_key: BitStringRef::from_bytes(key).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn rsa_with_der_crate(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
        let public_key = pkcs1::RsaPublicKeyRef {
            modulus: UintRef::new(modulus).unwrap(),
            public_exponent: UintRef::new(exponent).unwrap(),
        }
        .to_der()
        .unwrap();
        let algorithm = AlgorithmIdentifierRef {
            oid: RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        };
        with_der_crate(algorithm, &public_key)
    }

    #[test]
    fn rsa_matches_der_crate() {
        // Moduli around each length-form boundary, with and without the top bit set.
        for len in [1, 63, 64, 126, 127, 128, 129, 255, 256, 257, 512, 1024] {
            for first in [0x01, 0x7F, 0x80, 0xFF] {
                let mut modulus = vec![0xA5; len];
                modulus[0] = first;
                for exponent in [&[0x03][..], &[0x01, 0x00, 0x01], &[0x80, 0x00, 0x01]] {
                    assert_eq!(
                        rsa(&modulus, exponent, RSA_ENCRYPTION),
                        rsa_with_der_crate(&modulus, exponent),
                        "modulus of {len} bytes starting {first:#04x}"
                    );
                }
            }
        }
    }

    #[test]
    fn ec_matches_der_crate() {
        let curves = [
            ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
            ObjectIdentifier::new_unwrap("1.3.132.0.34"),
        ];
        for (curve, point_len) in curves.iter().zip([65, 97]) {
            let mut point = vec![0x5A; point_len];
            point[0] = 0x04;
            let algorithm = AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: Some(AnyRef::from(curve)),
            };
            assert_eq!(
                ec(&point, EC_PUBLIC_KEY, *curve),
                with_der_crate(algorithm, &point)
            );
        }
    }

    #[test]
    fn zero_integer_is_one_zero_byte() {
        let mut out = Vec::new();
        write_unsigned_integer(&mut out, &[]);
        assert_eq!(out, [INTEGER, 0x01, 0x00]);
    }

    #[test]
    fn long_lengths_use_fewest_bytes() {
        for (len, header) in [
            (0x7F, &[0x04, 0x7F][..]),
            (0x80, &[0x04, 0x81, 0x80]),
            (0xFF, &[0x04, 0x81, 0xFF]),
            (0x100, &[0x04, 0x82, 0x01, 0x00]),
            (0x1_0000, &[0x04, 0x83, 0x01, 0x00, 0x00]),
        ] {
            let mut out = Vec::new();
            write_header(&mut out, 0x04, len);
            assert_eq!(out, header, "length {len:#x}");
        }
    }
}
