//! The SubjectPublicKeyInfo of an X.509 certificate, found by walking its DER.
//!
//! A certificate here only carries a public key, so its signature, validity dates and
//! issuer are not checked. The walk checks the layout of RFC 5280 section 4.1:
//! - every field of `tbsCertificate`, in order, with its tag and DER length;
//! - the version number, both algorithm identifiers and the two validity times;
//! - the list of extensions;
//! - that no bytes follow the certificate.
//!
//! The reader is written out here rather than built on the `der` crate, because the
//! generic decoders a `der` version needed added more code to the Envoy filter
//! module than this whole walk.
//!
//! NOTE: names and extension values are skipped without being decoded, so damage
//! inside them goes unnoticed; a full X.509 parser would reject such a certificate.

use std::fmt::Write as _;

use super::KeyError;

const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT`, constructed.
const VERSION: u8 = 0xA0;
/// `[1] IMPLICIT BIT STRING`, primitive.
const ISSUER_UNIQUE_ID: u8 = 0x81;
/// `[2] IMPLICIT BIT STRING`, primitive.
const SUBJECT_UNIQUE_ID: u8 = 0x82;
/// `[3] EXPLICIT`, constructed.
const EXTENSIONS: u8 = 0xA3;

/// Returns the DER SubjectPublicKeyInfo inside a DER `Certificate`.
///
/// # Errors
/// [`KeyError::InvalidDer`] naming the first field whose tag, length or content is
/// wrong, or the number of bytes that follow the certificate.
pub(crate) fn subject_public_key_info(der: &[u8]) -> Result<&[u8], KeyError> {
    let mut input = Reader::new(der, "Certificate");
    let certificate = input.contents(SEQUENCE, "Certificate").map_err(invalid)?;
    if !input.is_empty() {
        return Err(KeyError::InvalidDer(format!(
            "X.509 certificate: {} bytes follow the certificate",
            input.bytes.len()
        )));
    }
    read_certificate(certificate).map_err(invalid)
}

/// A field of the certificate that did not decode, and why.
struct FieldError {
    field: &'static str,
    problem: String,
}

fn invalid(error: FieldError) -> KeyError {
    KeyError::InvalidDer(format!(
        "X.509 certificate: {}: {}",
        error.field, error.problem
    ))
}

/// Reads the contents of the `Certificate` SEQUENCE and returns the SPKI element.
fn read_certificate(mut certificate: Reader<'_>) -> Result<&[u8], FieldError> {
    let mut tbs = certificate.contents(SEQUENCE, "tbsCertificate")?;
    read_algorithm(&mut certificate, "signatureAlgorithm")?;
    read_bit_string(&mut certificate, "signatureValue")?;
    certificate.finish()?;

    read_version(&mut tbs)?;
    tbs.element(INTEGER, "serialNumber")?;
    read_algorithm(&mut tbs, "signature")?;
    tbs.element(SEQUENCE, "issuer")?;
    read_validity(&mut tbs)?;
    tbs.element(SEQUENCE, "subject")?;
    let spki = tbs.element(SEQUENCE, "subjectPublicKeyInfo")?;

    // Both unique identifiers are optional and come in this order.
    for (tag, field) in [
        (ISSUER_UNIQUE_ID, "issuerUniqueID"),
        (SUBJECT_UNIQUE_ID, "subjectUniqueID"),
    ] {
        if tbs.next_tag() == Some(tag) {
            tbs.element(tag, field)?;
        }
    }
    read_extensions(&mut tbs)?;
    tbs.finish()?;

    Ok(spki)
}

/// Reads the optional `version [0] EXPLICIT INTEGER`, which must be v1, v2 or v3
/// (0, 1 or 2). The DER of each of these is a single content byte.
fn read_version(tbs: &mut Reader<'_>) -> Result<(), FieldError> {
    if tbs.next_tag() != Some(VERSION) {
        return Ok(());
    }
    let mut explicit = tbs.contents(VERSION, "version")?;
    let number = explicit.contents(INTEGER, "version")?;
    explicit.finish()?;
    match number.bytes {
        [0..=2] => Ok(()),
        other => Err(number.error(format!(
            "INTEGER {} is not v1, v2 or v3 (0, 1 or 2)",
            hex(other)
        ))),
    }
}

/// Reads an `AlgorithmIdentifier`: a SEQUENCE of an OBJECT IDENTIFIER and optional
/// parameters of any type.
fn read_algorithm(reader: &mut Reader<'_>, field: &'static str) -> Result<(), FieldError> {
    let mut algorithm = reader.contents(SEQUENCE, field)?;
    read_object_identifier(&mut algorithm, field)?;
    if !algorithm.is_empty() {
        algorithm.any(field)?;
    }
    algorithm.finish()
}

/// Reads an OBJECT IDENTIFIER, whose subidentifiers are base-128 numbers with no
/// leading 0x80 byte, the last one ending without the continuation bit.
fn read_object_identifier(reader: &mut Reader<'_>, field: &'static str) -> Result<(), FieldError> {
    let oid = reader.contents(OBJECT_IDENTIFIER, field)?;
    let mut starts_subidentifier = true;
    for &byte in oid.bytes {
        if starts_subidentifier && byte == 0x80 {
            return Err(oid.error("OBJECT IDENTIFIER has a subidentifier with a leading 0x80"));
        }
        starts_subidentifier = byte & 0x80 == 0;
    }
    if oid.bytes.is_empty() || !starts_subidentifier {
        return Err(oid.error("OBJECT IDENTIFIER is empty or ends inside a subidentifier"));
    }
    Ok(())
}

/// Reads `validity`: a SEQUENCE of two times, each a UTCTime or GeneralizedTime.
fn read_validity(tbs: &mut Reader<'_>) -> Result<(), FieldError> {
    let mut validity = tbs.contents(SEQUENCE, "validity")?;
    for field in ["validity.notBefore", "validity.notAfter"] {
        let time = match validity.next_tag() {
            Some(GENERALIZED_TIME) => validity.contents(GENERALIZED_TIME, field)?,
            _ => validity.contents(UTC_TIME, field)?,
        };
        check_time(&time)?;
    }
    validity.finish()
}

/// Checks a DER time: `YYMMDDHHMMSSZ` for a UTCTime, `YYYYMMDDHHMMSSZ` for a
/// GeneralizedTime, with a real date and time of day.
fn check_time(time: &Reader<'_>) -> Result<(), FieldError> {
    let (year_digits, form) = match time.bytes.len() {
        13 => (2, "YYMMDDHHMMSSZ"),
        15 => (4, "YYYYMMDDHHMMSSZ"),
        _ => (0, "YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ"),
    };
    let malformed = || time.error(format!("time is not of the form {form}"));
    let Some((b'Z', digits)) = time.bytes.split_last() else {
        return Err(malformed());
    };
    if year_digits == 0 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }

    let number = |start: usize, len: usize| {
        digits
            .iter()
            .skip(start)
            .take(len)
            .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
    };
    let mut year = number(0, year_digits);
    if year_digits == 2 {
        // RFC 5280 section 4.1.2.5.1: YY of 50 or more is 19YY, otherwise 20YY.
        year += if year >= 50 { 1900 } else { 2000 };
    }
    let [month, day, hour, minute, second] =
        [0, 2, 4, 6, 8].map(|offset| number(year_digits + offset, 2));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return Err(time.error("time is not a valid date and time of day"));
    }
    Ok(())
}

/// Reads the optional `extensions [3] EXPLICIT`: a SEQUENCE of at least one
/// `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue
/// OCTET STRING }`.
fn read_extensions(tbs: &mut Reader<'_>) -> Result<(), FieldError> {
    if tbs.next_tag() != Some(EXTENSIONS) {
        return Ok(());
    }
    let mut explicit = tbs.contents(EXTENSIONS, "extensions")?;
    let mut list = explicit.contents(SEQUENCE, "extensions")?;
    explicit.finish()?;
    if list.is_empty() {
        return Err(list.error("the list of extensions is empty"));
    }

    while !list.is_empty() {
        let mut extension = list.contents(SEQUENCE, "extension")?;
        read_object_identifier(&mut extension, "extension.extnID")?;
        if extension.next_tag() == Some(BOOLEAN) {
            let critical = extension.contents(BOOLEAN, "extension.critical")?;
            if !matches!(critical.bytes, [0x00 | 0xFF]) {
                return Err(critical.error("BOOLEAN is not a single byte 0x00 or 0xFF"));
            }
        }
        extension.element(OCTET_STRING, "extension.extnValue")?;
        extension.finish()?;
    }
    Ok(())
}

/// Reads a BIT STRING, which must have no unused bits.
fn read_bit_string(reader: &mut Reader<'_>, field: &'static str) -> Result<(), FieldError> {
    let bits = reader.contents(BIT_STRING, field)?;
    if bits.bytes.first() != Some(&0) {
        return Err(bits.error("BIT STRING is empty or has unused bits"));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::from("0x");
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// A cursor over DER elements, labelled with the field they belong to.
struct Reader<'a> {
    bytes: &'a [u8],
    field: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], field: &'static str) -> Reader<'a> {
        Reader { bytes, field }
    }

    fn error(&self, problem: impl Into<String>) -> FieldError {
        FieldError {
            field: self.field,
            problem: problem.into(),
        }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Returns the tag of the next element, if there is one.
    fn next_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// Checks that nothing follows the last field.
    fn finish(&self) -> Result<(), FieldError> {
        if self.is_empty() {
            return Ok(());
        }
        Err(self.error(format!("{} bytes follow the last field", self.bytes.len())))
    }

    /// Reads one element of any tag and returns its whole encoding and its contents.
    fn any(&mut self, field: &'static str) -> Result<(&'a [u8], Reader<'a>), FieldError> {
        let error = |problem: &str| FieldError {
            field,
            problem: problem.to_owned(),
        };
        let [tag, first_length, rest @ ..] = self.bytes else {
            return Err(error("the element is truncated"));
        };
        if tag & 0x1F == 0x1F {
            return Err(error("tag numbers above 30 are not used in a certificate"));
        }

        let (length, rest) = match *first_length {
            short @ 0..=0x7F => (usize::from(short), rest),
            0x80 => return Err(error("indefinite length is not allowed in DER")),
            long => {
                let count = usize::from(long & 0x7F);
                if count > 4 {
                    return Err(error("the length does not fit in four bytes"));
                }
                let (Some(digits), Some(rest)) = (rest.get(..count), rest.get(count..)) else {
                    return Err(error("the length is truncated"));
                };
                let length = digits
                    .iter()
                    .fold(0usize, |value, &digit| (value << 8) | usize::from(digit));
                // DER uses the long form only for lengths of 128 and more, with no
                // leading zero byte.
                if length < 0x80 || digits.first() == Some(&0) {
                    return Err(error("the length is not in its shortest DER form"));
                }
                (length, rest)
            }
        };

        let Some(contents) = rest.get(..length) else {
            return Err(error(&format!(
                "the element announces {length} content bytes, but only {} follow",
                rest.len()
            )));
        };
        // `contents` lies inside `self.bytes`, so this sum cannot overflow.
        let element_len = self.bytes.len() - rest.len() + length;
        let (element, after) = self.bytes.split_at(element_len);
        self.bytes = after;
        Ok((element, Reader::new(contents, field)))
    }

    /// Reads one element, which must have `tag`, and returns its whole encoding.
    fn element(&mut self, tag: u8, field: &'static str) -> Result<&'a [u8], FieldError> {
        self.expect_tag(tag, field)?;
        Ok(self.any(field)?.0)
    }

    /// Reads one element, which must have `tag`, and returns a reader over its contents.
    fn contents(&mut self, tag: u8, field: &'static str) -> Result<Reader<'a>, FieldError> {
        self.expect_tag(tag, field)?;
        Ok(self.any(field)?.1)
    }

    fn expect_tag(&self, tag: u8, field: &'static str) -> Result<(), FieldError> {
        match self.next_tag() {
            Some(found) if found == tag => Ok(()),
            Some(found) => Err(FieldError {
                field,
                problem: format!("expected tag 0x{tag:02x}, found 0x{found:02x}"),
            }),
            None => Err(FieldError {
                field,
                problem: format!("missing; expected tag 0x{tag:02x}"),
            }),
        }
    }
}
