//! A minimal protobuf codec (varint and length-delimited fields only) and the two
//! messages of Envoy's `verify_signature` foreign function.
//!
//! Envoy declares them in `source/extensions/common/wasm/ext/verify_signature.proto`:
//! `VerifySignatureArguments { string hash_function = 1; bytes public_key = 2;
//! bytes signature = 3; bytes text = 4; string public_key_pem = 5; }` and
//! `VerifySignatureResult { bool result = 1; string error = 2; }`.

/// Wire type 0.
const WIRE_VARINT: u64 = 0;
/// Wire type 2.
const WIRE_LEN: u64 = 2;

/// Field numbers of `VerifySignatureArguments`.
pub mod verify_arguments {
    /// `string hash_function = 1`, e.g. `sha256`.
    pub const HASH_FUNCTION: u32 = 1;
    /// `bytes public_key = 2`, a DER SubjectPublicKeyInfo.
    pub const PUBLIC_KEY: u32 = 2;
    /// `bytes signature = 3`.
    pub const SIGNATURE: u32 = 3;
    /// `bytes text = 4`, the signed data.
    pub const TEXT: u32 = 4;
    /// `string public_key_pem = 5`, the key as PEM instead of DER.
    pub const PUBLIC_KEY_PEM: u32 = 5;
}

/// Field numbers of `VerifySignatureResult`.
pub mod verify_result {
    /// `bool result = 1`.
    pub const RESULT: u32 = 1;
    /// `string error = 2`, empty on success.
    pub const ERROR: u32 = 2;
}

/// The reason protobuf bytes could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ended inside a field.
    Truncated,
    /// A varint is longer than 10 bytes.
    VarintTooLong,
    /// A wire type other than varint (0) or length-delimited (2).
    UnsupportedWireType(u8),
    /// Field number 0, which protobuf forbids.
    ZeroFieldNumber,
    /// A string field is not UTF-8.
    InvalidUtf8,
}

/// The value of one decoded field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2: bytes, a string or a nested message.
    Bytes(&'a [u8]),
}

/// Appends protobuf fields to a buffer.
#[derive(Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Creates an empty encoder.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends a varint field.
    pub fn varint(&mut self, field: u32, value: u64) -> &mut Encoder {
        self.put_varint((u64::from(field) << 3) | WIRE_VARINT);
        self.put_varint(value);
        self
    }

    /// Appends a bool field (a varint of 0 or 1).
    pub fn bool(&mut self, field: u32, value: bool) -> &mut Encoder {
        self.varint(field, u64::from(value))
    }

    /// Appends a length-delimited field.
    pub fn bytes(&mut self, field: u32, value: &[u8]) -> &mut Encoder {
        self.put_varint((u64::from(field) << 3) | WIRE_LEN);
        self.put_varint(value.len() as u64);
        self.buf.extend_from_slice(value);
        self
    }

    /// Returns the encoded message.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn put_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.buf.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }
}

/// Decodes every field of a message in wire order; repeated numbers are all returned.
pub fn decode_fields(mut data: &[u8]) -> Result<Vec<(u32, FieldValue<'_>)>, DecodeError> {
    let mut fields = Vec::new();
    while !data.is_empty() {
        let key = take_varint(&mut data)?;
        let wire_type = (key & 7) as u8;
        let number = u32::try_from(key >> 3).map_err(|_| DecodeError::Truncated)?;
        if number == 0 {
            return Err(DecodeError::ZeroFieldNumber);
        }
        let value = match u64::from(wire_type) {
            WIRE_VARINT => FieldValue::Varint(take_varint(&mut data)?),
            WIRE_LEN => {
                let len =
                    usize::try_from(take_varint(&mut data)?).map_err(|_| DecodeError::Truncated)?;
                if len > data.len() {
                    return Err(DecodeError::Truncated);
                }
                let (value, rest) = data.split_at(len);
                data = rest;
                FieldValue::Bytes(value)
            }
            _ => return Err(DecodeError::UnsupportedWireType(wire_type)),
        };
        fields.push((number, value));
    }
    Ok(fields)
}

fn take_varint(data: &mut &[u8]) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for (i, byte) in data.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *data = data.get(i + 1..).unwrap_or_default();
            return Ok(value);
        }
    }
    if data.len() >= 10 {
        Err(DecodeError::VarintTooLong)
    } else {
        Err(DecodeError::Truncated)
    }
}

/// The decoded `VerifySignatureArguments` message; absent fields are empty, and for a
/// repeated field the last occurrence wins, as in protobuf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifySignatureArguments {
    /// Hash name, e.g. `sha256`.
    pub hash_function: String,
    /// DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// The signed data.
    pub text: Vec<u8>,
    /// The key in PEM form, the alternative to `public_key`.
    pub public_key_pem: String,
}

impl VerifySignatureArguments {
    /// Decodes the message; unknown fields are skipped when they are varint or
    /// length-delimited, and a known field of the wrong wire type is ignored.
    pub fn decode(data: &[u8]) -> Result<VerifySignatureArguments, DecodeError> {
        let mut args = VerifySignatureArguments::default();
        for (number, value) in decode_fields(data)? {
            let FieldValue::Bytes(bytes) = value else {
                continue;
            };
            match number {
                verify_arguments::HASH_FUNCTION => args.hash_function = utf8(bytes)?,
                verify_arguments::PUBLIC_KEY => args.public_key = bytes.to_vec(),
                verify_arguments::SIGNATURE => args.signature = bytes.to_vec(),
                verify_arguments::TEXT => args.text = bytes.to_vec(),
                verify_arguments::PUBLIC_KEY_PEM => args.public_key_pem = utf8(bytes)?,
                _ => {}
            }
        }
        Ok(args)
    }

    /// Encodes the message, leaving out empty fields as proto3 does.
    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = Encoder::new();
        let fields: [(u32, &[u8]); 5] = [
            (
                verify_arguments::HASH_FUNCTION,
                self.hash_function.as_bytes(),
            ),
            (verify_arguments::PUBLIC_KEY, &self.public_key),
            (verify_arguments::SIGNATURE, &self.signature),
            (verify_arguments::TEXT, &self.text),
            (
                verify_arguments::PUBLIC_KEY_PEM,
                self.public_key_pem.as_bytes(),
            ),
        ];
        for (number, value) in fields {
            if !value.is_empty() {
                encoder.bytes(number, value);
            }
        }
        encoder.finish()
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
}

/// The `VerifySignatureResult` message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifySignatureResult {
    /// True when the signature is valid.
    pub result: bool,
    /// The reason verification failed; empty on success.
    pub error: String,
}

impl VerifySignatureResult {
    /// Encodes the message, leaving out default values as proto3 does.
    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = Encoder::new();
        if self.result {
            encoder.bool(verify_result::RESULT, true);
        }
        if !self.error.is_empty() {
            encoder.bytes(verify_result::ERROR, self.error.as_bytes());
        }
        encoder.finish()
    }

    /// Decodes the message.
    pub fn decode(data: &[u8]) -> Result<VerifySignatureResult, DecodeError> {
        let mut message = VerifySignatureResult::default();
        for (number, value) in decode_fields(data)? {
            match (number, value) {
                (verify_result::RESULT, FieldValue::Varint(v)) => message.result = v != 0,
                (verify_result::ERROR, FieldValue::Bytes(bytes)) => message.error = utf8(bytes)?,
                _ => {}
            }
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn varint_encoding_of_300() {
        // The example of the protobuf encoding guide: field 1, value 300.
        let bytes = Encoder::new().varint(1, 300).finish();
        assert_eq!(bytes, vec![0x08, 0xac, 0x02]);
    }

    #[test]
    fn length_delimited_encoding() {
        let bytes = Encoder::new().bytes(2, b"testing").finish();
        assert_eq!(bytes, b"\x12\x07testing".to_vec());
    }

    #[test]
    fn max_varint_round_trips() {
        let bytes = Encoder::new().varint(15, u64::MAX).finish();
        let fields = decode_fields(&bytes).unwrap();
        assert_eq!(fields, vec![(15, FieldValue::Varint(u64::MAX))]);
    }

    #[test]
    fn truncated_length_is_rejected() {
        assert_eq!(decode_fields(b"\x12\x07test"), Err(DecodeError::Truncated));
        assert_eq!(decode_fields(b"\x08"), Err(DecodeError::Truncated));
        assert_eq!(decode_fields(b"\x08\x80"), Err(DecodeError::Truncated));
    }

    #[test]
    fn overlong_varint_is_rejected() {
        let bytes = [
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(decode_fields(&bytes), Err(DecodeError::VarintTooLong));
    }

    #[test]
    fn fixed_width_wire_types_are_rejected() {
        assert_eq!(
            decode_fields(b"\x09\0\0\0\0\0\0\0\0"),
            Err(DecodeError::UnsupportedWireType(1))
        );
        assert_eq!(
            decode_fields(b"\x0d\0\0\0\0"),
            Err(DecodeError::UnsupportedWireType(5))
        );
    }

    #[test]
    fn field_number_zero_is_rejected() {
        assert_eq!(
            decode_fields(b"\x00\x01"),
            Err(DecodeError::ZeroFieldNumber)
        );
    }

    #[test]
    fn verify_arguments_round_trip() {
        let args = VerifySignatureArguments {
            hash_function: "sha256".into(),
            public_key: vec![0x30, 0x59],
            signature: vec![1, 2, 3],
            text: b"hello".to_vec(),
            public_key_pem: String::new(),
        };
        let bytes = args.encode();
        assert_eq!(&bytes[..8], b"\x0a\x06sha256");
        assert_eq!(VerifySignatureArguments::decode(&bytes).unwrap(), args);
    }

    #[test]
    fn verify_arguments_skip_unknown_fields() {
        let bytes = Encoder::new()
            .varint(9, 7)
            .bytes(10, b"x")
            .bytes(verify_arguments::TEXT, b"t")
            .finish();
        let args = VerifySignatureArguments::decode(&bytes).unwrap();
        assert_eq!(args.text, b"t".to_vec());
    }

    #[test]
    fn verify_result_encoding() {
        let ok = VerifySignatureResult {
            result: true,
            error: String::new(),
        };
        assert_eq!(ok.encode(), vec![0x08, 0x01]);
        let failed = VerifySignatureResult {
            result: false,
            error: "bad".into(),
        };
        assert_eq!(failed.encode(), b"\x12\x03bad".to_vec());
        assert_eq!(
            VerifySignatureResult::decode(&failed.encode()).unwrap(),
            failed
        );
        assert_eq!(VerifySignatureResult::decode(&ok.encode()).unwrap(), ok);
    }
}
