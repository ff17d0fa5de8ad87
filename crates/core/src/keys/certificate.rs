//! The SubjectPublicKeyInfo of an X.509 certificate, found by walking its DER.
//!
//! A certificate here only carries a public key, so its signature, validity dates and
//! issuer are not checked. The walk checks the layout of RFC 5280 section 4.1:
//! - every field of `tbsCertificate`, in order, with its tag and DER length;
//! - the version number, both algorithm identifiers and the two validity times;
//! - the list of extensions;
//! - that no bytes follow the certificate.
//!
//! NOTE: names and extension values are skipped without being decoded, so damage
//! inside them goes unnoticed; a full X.509 parser would reject such a certificate.

use der::asn1::{AnyRef, BitStringRef, GeneralizedTime, ObjectIdentifier, OctetStringRef, UtcTime};
use der::{Decode, ErrorKind, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierRef;

use super::KeyError;

/// Returns the DER SubjectPublicKeyInfo inside a DER `Certificate`.
///
/// # Errors
/// [`KeyError::InvalidDer`] naming the first field whose tag, length or content is
/// wrong, or the number of bytes that follow the certificate.
pub(crate) fn subject_public_key_info(der: &[u8]) -> Result<&[u8], KeyError> {
    let mut input = SliceReader::new(der).map_err(|error| invalid(at("Certificate")(error)))?;
    let certificate = contents(&mut input, Tag::Sequence, "Certificate").map_err(invalid)?;
    if !input.is_finished() {
        return Err(KeyError::InvalidDer(format!(
            "X.509 certificate: {} bytes follow the certificate",
            input.remaining_len()
        )));
    }
    read_certificate(certificate).map_err(invalid)
}

/// A field of the certificate that did not decode, and why.
struct FieldError {
    field: &'static str,
    kind: ErrorKind,
}

fn invalid(error: FieldError) -> KeyError {
    KeyError::InvalidDer(format!(
        "X.509 certificate: {}: {}",
        error.field, error.kind
    ))
}

/// Returns a function that labels a DER error with the field it occurred in.
fn at(field: &'static str) -> impl Fn(der::Error) -> FieldError {
    move |error| FieldError {
        field,
        kind: error.kind(),
    }
}

/// Reads the contents of the `Certificate` SEQUENCE and returns the SPKI element.
fn read_certificate(mut certificate: SliceReader<'_>) -> Result<&[u8], FieldError> {
    let mut tbs = contents(&mut certificate, Tag::Sequence, "tbsCertificate")?;
    AlgorithmIdentifierRef::decode(&mut certificate).map_err(at("signatureAlgorithm"))?;
    read_bit_string(&mut certificate, "signatureValue")?;
    finish(&certificate, "Certificate")?;

    read_version(&mut tbs)?;
    element(&mut tbs, Tag::Integer, "serialNumber")?;
    AlgorithmIdentifierRef::decode(&mut tbs).map_err(at("signature"))?;
    element(&mut tbs, Tag::Sequence, "issuer")?;
    read_validity(&mut tbs)?;
    element(&mut tbs, Tag::Sequence, "subject")?;
    let spki = element(&mut tbs, Tag::Sequence, "subjectPublicKeyInfo")?;

    // issuerUniqueID [1] IMPLICIT and subjectUniqueID [2] IMPLICIT are BIT STRINGs.
    // Both are optional and come in this order.
    for (number, field) in [(1, "issuerUniqueID"), (2, "subjectUniqueID")] {
        let tag = TagNumber(number).context_specific(false);
        if next_tag_is(&tbs, tag, field)? {
            element(&mut tbs, tag, field)?;
        }
    }
    read_extensions(&mut tbs)?;
    finish(&tbs, "tbsCertificate")?;

    Ok(spki)
}

/// Reads the optional `version [0] EXPLICIT INTEGER`, which must be v1, v2 or v3
/// (0, 1 or 2).
fn read_version(tbs: &mut SliceReader<'_>) -> Result<(), FieldError> {
    let tag = TagNumber(0).context_specific(true);
    if !next_tag_is(tbs, tag, "version")? {
        return Ok(());
    }
    let mut version = contents(tbs, tag, "version")?;
    let number = u8::decode(&mut version).map_err(at("version"))?;
    finish(&version, "version")?;
    if number > 2 {
        return Err(FieldError {
            field: "version",
            kind: ErrorKind::Value { tag: Tag::Integer },
        });
    }
    Ok(())
}

/// Reads `validity`: a SEQUENCE of two times, each a UTCTime or GeneralizedTime.
fn read_validity(tbs: &mut SliceReader<'_>) -> Result<(), FieldError> {
    let mut validity = contents(tbs, Tag::Sequence, "validity")?;
    for field in ["validity.notBefore", "validity.notAfter"] {
        let tag = Tag::peek(&validity).map_err(at(field))?;
        let time = match tag {
            Tag::UtcTime => UtcTime::decode(&mut validity).map(drop),
            Tag::GeneralizedTime => GeneralizedTime::decode(&mut validity).map(drop),
            other => Err(other.unexpected_error(Some(Tag::UtcTime)).into()),
        };
        time.map_err(at(field))?;
    }
    finish(&validity, "validity")
}

/// Reads the optional `extensions [3] EXPLICIT`: a SEQUENCE of at least one
/// `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue
/// OCTET STRING }`.
fn read_extensions(tbs: &mut SliceReader<'_>) -> Result<(), FieldError> {
    let tag = TagNumber(3).context_specific(true);
    if !next_tag_is(tbs, tag, "extensions")? {
        return Ok(());
    }
    let mut explicit = contents(tbs, tag, "extensions")?;
    let mut list = contents(&mut explicit, Tag::Sequence, "extensions")?;
    finish(&explicit, "extensions")?;
    if list.is_finished() {
        return Err(FieldError {
            field: "extensions",
            kind: ErrorKind::Length { tag: Tag::Sequence },
        });
    }

    while !list.is_finished() {
        let mut extension = contents(&mut list, Tag::Sequence, "extension")?;
        <ObjectIdentifier>::decode(&mut extension).map_err(at("extension.extnID"))?;
        if next_tag_is(&extension, Tag::Boolean, "extension.critical")? {
            bool::decode(&mut extension).map_err(at("extension.critical"))?;
        }
        <&OctetStringRef>::decode(&mut extension).map_err(at("extension.extnValue"))?;
        finish(&extension, "extension")?;
    }
    Ok(())
}

/// Reads a BIT STRING, which must have no unused bits.
fn read_bit_string(reader: &mut SliceReader<'_>, field: &'static str) -> Result<(), FieldError> {
    let bits = BitStringRef::decode(reader).map_err(at(field))?;
    if bits.as_bytes().is_none() {
        return Err(FieldError {
            field,
            kind: ErrorKind::Value {
                tag: Tag::BitString,
            },
        });
    }
    Ok(())
}

/// Reports whether the reader has another element and it has `tag`.
fn next_tag_is(
    reader: &SliceReader<'_>,
    tag: Tag,
    field: &'static str,
) -> Result<bool, FieldError> {
    if reader.is_finished() {
        return Ok(false);
    }
    Ok(Tag::peek(reader).map_err(at(field))? == tag)
}

/// Reads one element, which must have `tag`, and returns its whole encoding.
fn element<'a>(
    reader: &mut SliceReader<'a>,
    tag: Tag,
    field: &'static str,
) -> Result<&'a [u8], FieldError> {
    Tag::peek(reader)
        .and_then(|found| found.assert_eq(tag))
        .map_err(at(field))?;
    reader.tlv_bytes().map_err(at(field))
}

/// Reads one element, which must have `tag`, and returns a reader over its contents.
fn contents<'a>(
    reader: &mut SliceReader<'a>,
    tag: Tag,
    field: &'static str,
) -> Result<SliceReader<'a>, FieldError> {
    let any = AnyRef::decode(reader).map_err(at(field))?;
    any.tag().assert_eq(tag).map_err(at(field))?;
    SliceReader::new(any.value()).map_err(at(field))
}

/// Checks that nothing follows the last field of `field`.
fn finish(reader: &SliceReader<'_>, field: &'static str) -> Result<(), FieldError> {
    if reader.is_finished() {
        return Ok(());
    }
    Err(FieldError {
        field,
        kind: ErrorKind::TrailingData {
            decoded: reader.position(),
            remaining: reader.remaining_len(),
        },
    })
}
