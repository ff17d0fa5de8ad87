//! A PEM bundle reader that never drops a certificate silently.
//!
//! Bundles reach the Hub and PM4ML through Kubernetes Secrets, Vault, MCM's JSON and
//! copy-paste, and arrive damaged in known ways. This reader accepts each of them and
//! records a [`Warning`] for the unusual ones:
//! - CRLF line ends, trailing whitespace, blank lines and text before, between and after
//!   blocks (all common tools accept these);
//! - indented blocks, which `rustls-pki-types` and x509-parser skip without an error;
//! - an END line glued to the next BEGIN on one line, where both of those libraries
//!   silently lose the second certificate;
//! - the `X509 CERTIFICATE` and `TRUSTED CERTIFICATE` labels (OpenSSL's); the trust
//!   settings that OpenSSL appends to a `TRUSTED CERTIFICATE` are ignored;
//! - whitespace or a blank line inside a base64 body.
//!
//! A BEGIN line without its END line, mismatched labels, bad base64 and a bundle without a
//! certificate are errors. Raw DER input (one certificate or CSR) is accepted too.
//! Private keys are recognised by their label and never decoded or echoed.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::error::X509Error;
use x509_parser::prelude::FromDer;

use super::{PkiError, PkiReason, Warning};

/// Largest bundle accepted, in bytes. A chain of five RSA-4096 certificates is about
/// 10 KB, and a Secret manifest with a CA bundle rarely passes 100 KB.
pub const MAX_BUNDLE_LEN: usize = 1024 * 1024;

/// Most PEM blocks read from one input.
pub const MAX_BLOCKS: usize = 64;

/// Largest DER object in one block, in bytes.
pub const MAX_DER_LEN: usize = 64 * 1024;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// The kind of object a PEM label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Certificate,
    CertificateRequest,
    /// A private key of any format, encrypted or not. Its bytes are not kept.
    PrivateKey,
    PublicKey,
    /// A label this reader does not interpret.
    Other,
}

/// One PEM block (or the whole input, for DER).
#[derive(Clone, Debug)]
pub struct Block {
    /// The label between `BEGIN ` and the dashes, or `DER` for raw DER input.
    pub label: String,
    pub kind: BlockKind,
    /// The decoded body. Empty for private keys and for labels of kind `Other`.
    pub der: Vec<u8>,
    /// 1-based line of the BEGIN marker.
    pub line: usize,
}

/// The blocks of one input, in input order, with the quirks that were accepted.
#[derive(Clone, Debug, Default)]
pub struct Bundle {
    pub blocks: Vec<Block>,
    pub warnings: Vec<Warning>,
}

impl Bundle {
    /// Returns the DER of every certificate block, in input order.
    pub fn certificates(&self) -> Vec<&[u8]> {
        self.of_kind(BlockKind::Certificate)
    }

    /// Returns the DER of every certificate request block, in input order.
    pub fn certificate_requests(&self) -> Vec<&[u8]> {
        self.of_kind(BlockKind::CertificateRequest)
    }

    /// Returns the DER of every public key block, in input order.
    pub fn public_keys(&self) -> Vec<&[u8]> {
        self.of_kind(BlockKind::PublicKey)
    }

    fn of_kind(&self, kind: BlockKind) -> Vec<&[u8]> {
        self.blocks
            .iter()
            .filter(|block| block.kind == kind)
            .map(|block| block.der.as_slice())
            .collect()
    }

    /// Returns the labels seen, for an error that names what the input contained instead.
    pub fn labels(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .map(|block| block.label.as_str())
            .collect()
    }
}

/// Reads every PEM block of `input`, or `input` itself when it is DER.
///
/// # Errors
/// [`PkiReason::InputTooLarge`], [`PkiReason::PemTooManyBlocks`],
/// [`PkiReason::PemMalformed`] or [`PkiReason::PemBadBase64`], naming the block's label
/// and line.
pub fn read_bundle(input: &[u8]) -> Result<Bundle, PkiError> {
    if input.len() > MAX_BUNDLE_LEN {
        return Err(PkiError::new(
            PkiReason::InputTooLarge,
            format!(
                "input is {} bytes, over the {MAX_BUNDLE_LEN}-byte limit; supply only the \
                 certificates of one chain",
                input.len()
            ),
        ));
    }
    if input.first() == Some(&0x30) {
        return Ok(read_der(input));
    }

    let mut bundle = Bundle::default();
    let mut rest = input;
    let mut offset = 0;
    while let Some(found) = find(rest, BEGIN.as_bytes()) {
        if bundle.blocks.len() == MAX_BLOCKS {
            return Err(PkiError::new(
                PkiReason::PemTooManyBlocks,
                format!(
                    "input contains more than {MAX_BLOCKS} PEM blocks; split it into one file per \
                     chain"
                ),
            ));
        }
        let begin = offset + found;
        let (block, consumed) = read_block(input, begin, &mut bundle.warnings)?;
        bundle.blocks.push(block);
        offset = begin + consumed;
        rest = input.get(offset..).unwrap_or_default();
    }
    Ok(bundle)
}

/// Treats the whole input as one DER object and names it by its content.
fn read_der(input: &[u8]) -> Bundle {
    let kind = if x509_parser::parse_x509_certificate(input).is_ok() {
        BlockKind::Certificate
    } else if <X509CertificationRequest as FromDer<'_, X509Error>>::from_der(input).is_ok() {
        BlockKind::CertificateRequest
    } else {
        // Left to the caller's DER parser, which reports the damage.
        BlockKind::Certificate
    };
    Bundle {
        blocks: vec![Block {
            label: "DER".to_owned(),
            kind,
            der: input.to_vec(),
            line: 1,
        }],
        warnings: Vec::new(),
    }
}

/// Reads the block whose BEGIN marker starts at `begin`; returns it and the bytes consumed.
fn read_block(
    input: &[u8],
    begin: usize,
    warnings: &mut Vec<Warning>,
) -> Result<(Block, usize), PkiError> {
    let line = line_number(input, begin);
    let after_begin = input.get(begin + BEGIN.len()..).unwrap_or_default();
    let Some(label_len) = find(after_begin, DASHES.as_bytes()) else {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!("the BEGIN marker on line {line} is not closed by -----"),
        ));
    };
    let label_bytes = after_begin.get(..label_len).unwrap_or_default();
    let label = String::from_utf8_lossy(label_bytes).trim().to_owned();
    if label.len() > 64 || label.contains('\n') {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!("the BEGIN marker on line {line} has no label ending in -----"),
        ));
    }
    note_position(input, begin, line, &label, warnings);

    let body_start = begin + BEGIN.len() + label_len + DASHES.len();
    let body_and_rest = input.get(body_start..).unwrap_or_default();
    let Some(end_at) = find(body_and_rest, END.as_bytes()) else {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!(
                "BEGIN {label} on line {line} has no END line; the block was cut off, so copy \
                 the whole PEM"
            ),
        ));
    };
    let body = body_and_rest.get(..end_at).unwrap_or_default();
    if let Some(nested) = find(body, BEGIN.as_bytes()) {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!(
                "BEGIN {label} on line {line} has no END line before the next BEGIN on line {}",
                line_number(input, body_start + nested)
            ),
        ));
    }
    let end_label_start = body_start + end_at + END.len();
    let end_tail = input.get(end_label_start..).unwrap_or_default();
    let end_label_len = find(end_tail, DASHES.as_bytes()).unwrap_or(end_tail.len());
    let end_label =
        String::from_utf8_lossy(end_tail.get(..end_label_len).unwrap_or_default()).into_owned();
    if end_label.trim() != label {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!(
                "BEGIN {label} on line {line} ends with END {}; the labels must match",
                end_label.trim()
            ),
        ));
    }
    let consumed = (end_label_start + end_label_len + DASHES.len()).saturating_sub(begin);

    let kind = kind_of(&label);
    let der = match kind {
        BlockKind::PrivateKey | BlockKind::Other => Vec::new(),
        _ => decode_body(body, &label, line, warnings)?,
    };
    if label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE" {
        warnings.push(Warning::new(
            "pem-openssl-label",
            format!("line {line}: read the OpenSSL label {label} as CERTIFICATE"),
        ));
    }
    Ok((
        Block {
            label,
            kind,
            der,
            line,
        },
        consumed,
    ))
}

/// Records a BEGIN marker that does not start its line: glued to an END, or indented.
fn note_position(
    input: &[u8],
    begin: usize,
    line: usize,
    label: &str,
    warnings: &mut Vec<Warning>,
) {
    let line_start = input
        .get(..begin)
        .and_then(|head| head.iter().rposition(|&b| b == b'\n'))
        .map_or(0, |newline| newline + 1);
    let before = input.get(line_start..begin).unwrap_or_default();
    if before.iter().all(|b| b.is_ascii_whitespace()) {
        if !before.is_empty() {
            warnings.push(Warning::new(
                "pem-indented",
                format!("line {line}: BEGIN {label} is indented"),
            ));
        }
    } else if find(before, END.as_bytes()).is_some() {
        warnings.push(Warning::new(
            "pem-glued-blocks",
            format!(
                "line {line}: BEGIN {label} follows the previous END on the same line; both \
                 blocks were read"
            ),
        ));
    } else {
        warnings.push(Warning::new(
            "pem-text-before-begin",
            format!("line {line}: text precedes BEGIN {label} on its line"),
        ));
    }
}

fn kind_of(label: &str) -> BlockKind {
    match label {
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => BlockKind::Certificate,
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => BlockKind::CertificateRequest,
        "PUBLIC KEY" | "RSA PUBLIC KEY" => BlockKind::PublicKey,
        _ if label.ends_with("PRIVATE KEY") => BlockKind::PrivateKey,
        _ => BlockKind::Other,
    }
}

/// Decodes a base64 body after removing all whitespace, which also accepts a blank line
/// or a leading space inside the body.
fn decode_body(
    body: &[u8],
    label: &str,
    line: usize,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<u8>, PkiError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    if body.windows(2).any(|pair| pair == b"\n\n")
        || body.windows(4).any(|quad| quad == b"\r\n\r\n")
    {
        let trimmed = body.trim_ascii();
        if trimmed.windows(2).any(|pair| pair == b"\n\n")
            || trimmed.windows(4).any(|quad| quad == b"\r\n\r\n")
        {
            warnings.push(Warning::new(
                "pem-blank-line-in-body",
                format!(
                    "line {line}: the body of {label} has a blank line, which OpenSSL reads as \
                     the end of a header and rejects"
                ),
            ));
        }
    }
    if body.contains(&b':') {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!(
                "{label} on line {line} has RFC 1421 headers (such as Proc-Type); only plain \
                 PEM is read"
            ),
        ));
    }
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(PkiError::new(
            PkiReason::PemMalformed,
            format!("{label} on line {line} has an empty body"),
        ));
    }
    if compact.len() / 4 * 3 > MAX_DER_LEN {
        return Err(PkiError::new(
            PkiReason::InputTooLarge,
            format!("{label} on line {line} is over {MAX_DER_LEN} bytes"),
        ));
    }
    LENIENT.decode(&compact).map_err(|error| {
        PkiError::new(
            PkiReason::PemBadBase64,
            format!(
                "{label} on line {line} is not valid base64 ({error}); copy the block again \
                 without changes"
            ),
        )
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn line_number(input: &[u8], at: usize) -> usize {
    input
        .get(..at)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const BODY: &str = "MAMCAQE=";

    fn block(label: &str) -> String {
        format!("-----BEGIN {label}-----\n{BODY}\n-----END {label}-----\n")
    }

    #[test]
    fn reads_two_blocks_with_crlf() {
        let text =
            format!("{}{}", block("CERTIFICATE"), block("CERTIFICATE")).replace('\n', "\r\n");
        let bundle = read_bundle(text.as_bytes()).unwrap();
        assert_eq!(bundle.certificates().len(), 2);
        assert!(bundle.warnings.is_empty());
    }

    #[test]
    fn glued_blocks_both_read() {
        let text = format!(
            "{}{}",
            block("CERTIFICATE").trim_end(),
            block("CERTIFICATE")
        );
        let bundle = read_bundle(text.as_bytes()).unwrap();
        assert_eq!(bundle.certificates().len(), 2);
        assert_eq!(bundle.warnings[0].code, "pem-glued-blocks");
    }

    #[test]
    fn indented_block_read() {
        let text: String = block("CERTIFICATE")
            .lines()
            .map(|line| format!("    {line}\n"))
            .collect();
        let bundle = read_bundle(text.as_bytes()).unwrap();
        assert_eq!(bundle.certificates().len(), 1);
        assert_eq!(bundle.warnings[0].code, "pem-indented");
    }

    #[test]
    fn missing_end_rejected() {
        let text = format!("-----BEGIN CERTIFICATE-----\n{BODY}\n");
        let error = read_bundle(text.as_bytes()).unwrap_err();
        assert_eq!(error.reason, PkiReason::PemMalformed);
    }

    #[test]
    fn mismatched_labels_rejected() {
        let text = format!("-----BEGIN CERTIFICATE-----\n{BODY}\n-----END PUBLIC KEY-----\n");
        let error = read_bundle(text.as_bytes()).unwrap_err();
        assert_eq!(error.reason, PkiReason::PemMalformed);
    }

    #[test]
    fn private_key_not_decoded() {
        let text = format!("{}{}", block("PRIVATE KEY"), block("CERTIFICATE"));
        let bundle = read_bundle(text.as_bytes()).unwrap();
        assert_eq!(bundle.blocks[0].kind, BlockKind::PrivateKey);
        assert!(bundle.blocks[0].der.is_empty());
        assert_eq!(bundle.certificates().len(), 1);
    }

    #[test]
    fn bad_base64_rejected() {
        let text = "-----BEGIN CERTIFICATE-----\nMA*CAQE=\n-----END CERTIFICATE-----\n";
        let error = read_bundle(text.as_bytes()).unwrap_err();
        assert_eq!(error.reason, PkiReason::PemBadBase64);
    }

    #[test]
    fn oversized_input_rejected() {
        let error = read_bundle(&vec![b' '; MAX_BUNDLE_LEN + 1]).unwrap_err();
        assert_eq!(error.reason, PkiReason::InputTooLarge);
    }
}
