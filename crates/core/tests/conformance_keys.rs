//! Parses every key of the JWS conformance corpus, when it is present.
//!
//! The corpus lives in `$FSPIOP_SHARED/conformance/jws/keys`. Without the variable
//! or the folder, each test prints why and passes without checking anything.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use fspiop_guard_core::crypto::{Algorithm, KeyKind, RingVerifier, SignatureVerifier, SigningKey};
use fspiop_guard_core::keys::{KeyError, KeyFormat, parse_public_key};

/// Returns the corpus key folder, or `None` after printing why it is skipped.
fn corpus_keys_dir() -> Option<PathBuf> {
    let Some(root) = std::env::var_os("FSPIOP_SHARED") else {
        eprintln!("skipped: FSPIOP_SHARED is not set, so the conformance keys are not available");
        return None;
    };
    let dir = PathBuf::from(root).join("conformance/jws/keys");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not a folder", dir.display());
        return None;
    }
    Some(dir)
}

/// Reads every `*.pem` file in the folder, keyed by file name.
fn read_pem_files(dir: &PathBuf) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".pem") {
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    files
}

fn public_kid(files: &BTreeMap<String, String>, stem: &str) -> String {
    let text = &files[&format!("{stem}.pub.pem")];
    parse_public_key(text).unwrap().key.kid().to_string()
}

#[test]
fn corpus_public_keys_parse_cleanly() {
    let Some(dir) = corpus_keys_dir() else { return };
    let files = read_pem_files(&dir);
    let public: Vec<_> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".pub.pem"))
        .collect();
    assert!(
        !public.is_empty(),
        "no *.pub.pem files in {}",
        dir.display()
    );

    for (name, text) in public {
        let parsed = parse_public_key(text).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(parsed.format, KeyFormat::SpkiPem, "{name}");
        assert!(parsed.repairs.is_empty(), "{name}: {:?}", parsed.repairs);
        assert_eq!(parsed.key.to_pem(), *text, "{name}");
    }
}

#[test]
fn corpus_private_keys_derive_matching_kids() {
    let Some(dir) = corpus_keys_dir() else { return };
    let files = read_pem_files(&dir);

    for (name, text) in files.iter().filter(|(name, _)| name.ends_with(".key.pem")) {
        let stem = name.trim_end_matches(".key.pem");
        let parsed = parse_public_key(text).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(parsed.format, KeyFormat::PrivateKeyPem, "{name}");
        assert_eq!(parsed.key.kid(), public_kid(&files, stem), "{name}");
    }
}

#[test]
fn corpus_pkcs1_and_certificate_match_spki() {
    let Some(dir) = corpus_keys_dir() else { return };
    let files = read_pem_files(&dir);

    if let Some(text) = files.get("pkcs1fsp.pub.pkcs1.pem") {
        let parsed = parse_public_key(text).unwrap();
        assert_eq!(parsed.format, KeyFormat::Pkcs1Pem);
        assert_eq!(parsed.key.kid(), public_kid(&files, "pkcs1fsp"));
    }
    if let Some(text) = files.get("certfsp.cert.pem") {
        let parsed = parse_public_key(text).unwrap();
        assert_eq!(parsed.format, KeyFormat::CertificatePem);
        assert_eq!(parsed.key.kid(), public_kid(&files, "certfsp"));
    }
}

#[test]
fn corpus_private_keys_sign_and_verify() {
    let Some(dir) = corpus_keys_dir() else { return };
    let files = read_pem_files(&dir);
    let message = br#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069"}"#;

    for (name, text) in files.iter().filter(|(name, _)| name.ends_with(".key.pem")) {
        let stem = name.trim_end_matches(".key.pem");
        let public = parse_public_key(&files[&format!("{stem}.pub.pem")])
            .unwrap()
            .key;

        let expected_sdk_algorithm = if text.contains("BEGIN EC ") {
            Algorithm::ES256
        } else {
            Algorithm::RS256
        };
        let algorithms = match public.kind() {
            KeyKind::Rsa { bits } if !(2048..=4096).contains(&bits) => {
                let err = SigningKey::from_pem(text).unwrap_err();
                assert!(
                    matches!(err, KeyError::UnsupportedSigningKeySize { .. }),
                    "{name}: {err:?}"
                );
                continue;
            }
            KeyKind::Rsa { .. } => vec![Algorithm::RS256, Algorithm::PS256],
            KeyKind::Ec(_) => Algorithm::ALL
                .into_iter()
                .filter(|alg| public.fits(*alg).is_ok())
                .collect(),
        };

        let signer = SigningKey::from_pem(text).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(signer.sdk_algorithm(), expected_sdk_algorithm, "{name}");
        for alg in algorithms {
            let signature = signer.sign(alg, message).unwrap();
            let result = RingVerifier.verify(&public, alg, message, &signature);
            assert_eq!(result, Ok(()), "{name} {alg}");
        }
    }
}
