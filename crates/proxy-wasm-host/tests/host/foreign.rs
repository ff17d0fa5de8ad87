//! Foreign functions: the native `verify_signature` and functions registered by tests.

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};

use super::common::*;
use proxy_wasm_host::protobuf::{VerifySignatureArguments, VerifySignatureResult};
use proxy_wasm_host::{HostConfig, Status};

const RSA2048_PKCS1: &[u8] = include_bytes!("keys/rsa2048.pkcs1.der");
const RSA2048_SPKI: &[u8] = include_bytes!("keys/rsa2048.spki.der");
const RSA2048_SPKI_PEM: &str = include_str!("keys/rsa2048.spki.pem");
const RSA1024_SPKI: &[u8] = include_bytes!("keys/rsa1024.spki.der");
const RSA1024_SIGNATURE: &[u8] = include_bytes!("keys/rsa1024.sha256.sig");
const RSA1024_TEXT: &[u8] = include_bytes!("keys/rsa1024.text");

/// Makes the guest call a foreign function; returns the status and the returned bytes.
fn call_foreign(config: HostConfig, name: &str, args: Vec<u8>) -> (u32, Vec<u8>) {
    let script = Script::default();
    let name = name.to_string();
    let build = move |p: &mut Program| {
        let (call, out) = p.foreign(&name, &args);
        p.report_returned(out);
        call
    };
    let build_in_guest = build.clone();
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        build_in_guest(&mut p);
        Some(p)
    });
    let mut host = start(&script, config);
    host.register_foreign_function("reverse", |args| {
        if args.is_empty() {
            return Err(Status::BadArgument);
        }
        Ok(args.iter().rev().copied().collect())
    });
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    let call = build(&mut Program::new());
    (run.status(call), run.reports[0].clone())
}

fn verify(args: VerifySignatureArguments) -> (u32, Option<VerifySignatureResult>) {
    let (status, bytes) = call_foreign(HostConfig::default(), "verify_signature", args.encode());
    let result = (status == OK).then(|| VerifySignatureResult::decode(&bytes).unwrap());
    (status, result)
}

fn rsa_args(text: &[u8], signed: &[u8]) -> VerifySignatureArguments {
    let key = RsaKeyPair::from_der(RSA2048_PKCS1).unwrap();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed,
        &mut signature,
    )
    .unwrap();
    VerifySignatureArguments {
        hash_function: "sha256".into(),
        public_key: RSA2048_SPKI.to_vec(),
        signature,
        text: text.to_vec(),
        public_key_pem: String::new(),
    }
}

/// Wraps a P-256 point in a SubjectPublicKeyInfo.
fn p256_spki(point: &[u8]) -> Vec<u8> {
    let mut spki = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    ];
    spki.extend_from_slice(&[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
    spki.extend_from_slice(&[0x03, 0x42, 0x00]);
    spki.extend_from_slice(point);
    spki
}

#[test]
fn rsa_signature_verifies() {
    let (status, result) = verify(rsa_args(b"payload", b"payload"));
    assert_eq!(status, OK);
    assert_eq!(
        result.unwrap(),
        VerifySignatureResult {
            result: true,
            error: String::new()
        }
    );
}

#[test]
fn rsa_signature_over_other_text_fails() {
    let (status, result) = verify(rsa_args(b"tampered", b"payload"));
    assert_eq!(status, OK);
    let result = result.unwrap();
    assert!(!result.result);
    assert_eq!(result.error, "Failed to verify digest. Error code: 0");
}

#[test]
fn rsa_key_in_pem_form_verifies() {
    let mut args = rsa_args(b"payload", b"payload");
    args.public_key.clear();
    args.public_key_pem = RSA2048_SPKI_PEM.to_string();
    assert!(verify(args).1.unwrap().result);
}

#[test]
fn both_key_forms_are_bad_argument() {
    let mut args = rsa_args(b"payload", b"payload");
    args.public_key_pem = RSA2048_SPKI_PEM.to_string();
    assert_eq!(verify(args).0, BAD_ARGUMENT);
}

#[test]
fn legacy_1024_bit_rsa_key_verifies() {
    let args = VerifySignatureArguments {
        hash_function: "SHA256".into(),
        public_key: RSA1024_SPKI.to_vec(),
        signature: RSA1024_SIGNATURE.to_vec(),
        text: RSA1024_TEXT.to_vec(),
        public_key_pem: String::new(),
    };
    assert!(verify(args).1.unwrap().result);
}

#[test]
fn ecdsa_der_signature_verifies() {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let signature = key.sign(&rng, b"quote").unwrap();
    let args = VerifySignatureArguments {
        hash_function: "sha256".into(),
        public_key: p256_spki(key.public_key().as_ref()),
        signature: signature.as_ref().to_vec(),
        text: b"quote".to_vec(),
        public_key_pem: String::new(),
    };
    let (status, result) = verify(args.clone());
    assert_eq!(status, OK);
    assert!(result.unwrap().result);

    let unknown_hash = VerifySignatureArguments {
        hash_function: "md5".into(),
        ..args
    };
    let result = verify(unknown_hash).1.unwrap();
    assert!(!result.result);
    assert_eq!(result.error, "md5 is not supported.");
}

#[test]
fn unparsable_key_is_bad_argument() {
    let mut args = rsa_args(b"payload", b"payload");
    args.public_key = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    assert_eq!(verify(args).0, BAD_ARGUMENT);
    assert_eq!(
        call_foreign(HostConfig::default(), "verify_signature", vec![0xff]).0,
        BAD_ARGUMENT
    );
}

#[test]
fn verify_signature_can_be_switched_off() {
    let config = HostConfig {
        verify_signature_foreign_function: false,
        ..HostConfig::default()
    };
    let (status, _) = call_foreign(config, "verify_signature", rsa_args(b"p", b"p").encode());
    assert_eq!(status, NOT_FOUND);
}

#[test]
fn registered_function_runs_and_unknown_is_not_found() {
    assert_eq!(
        call_foreign(HostConfig::default(), "reverse", b"abc".to_vec()),
        (OK, b"cba".to_vec())
    );
    assert_eq!(
        call_foreign(HostConfig::default(), "reverse", Vec::new()).0,
        BAD_ARGUMENT
    );
    assert_eq!(
        call_foreign(HostConfig::default(), "compress", b"x".to_vec()).0,
        NOT_FOUND
    );
}
