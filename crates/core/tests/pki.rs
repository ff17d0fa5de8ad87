//! Chain, CSR and inspection checks over certificates made for each case: valid chains
//! both ways, expired, not yet valid, wrong EKU, wrong CA, shuffled and root-first
//! bundles, CN-only, v1, SHA-1, 1024-bit, the PEM traps, and one CSR per MCM rule.
//!
//! The cases are generated into a fresh folder on every run. The committed copy in
//! `tests/fixtures/pki/cases`, which the CLI tests read, must give the same verdicts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/pki_fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fspiop_guard_core::pki::chain::{ChainPolicy, Usage, verify_bundle};
use fspiop_guard_core::pki::csr::{CsrPolicy, check_csr};
use fspiop_guard_core::pki::inspect::{KeyDescription, inspect_certificate};
use fspiop_guard_core::pki::pem::read_bundle;
use fspiop_guard_core::pki::{PkiReason, PkiVerdict};
use serde_json::Value;

fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fspiop-guard-pki-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn committed_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pki/cases")
}

/// Builds the chain policy a case names.
fn chain_policy(case: &Value) -> ChainPolicy {
    let usage = Usage::from_name(case["usage"].as_str().unwrap()).unwrap();
    let mut policy = match case["policy"].as_str() {
        Some("mcm") => ChainPolicy::mcm(usage),
        _ => ChainPolicy::new(usage),
    };
    policy.expected_name = case["expected_name"].as_str().map(str::to_owned);
    policy
}

/// Builds the CSR policy a case names.
fn csr_policy(name: &str) -> CsrPolicy {
    let mut policy = CsrPolicy::mcm();
    match name {
        "mcm" => {}
        "mcm-2048" => policy.min_rsa_bits = 2048,
        "mcm-cn" => policy.required_subject_fields = vec!["CN".to_owned()],
        "mcm-ecdsa-alg" => policy
            .allowed_signature_algorithms
            .push("ecdsa-with-SHA256".to_owned()),
        other => panic!("unknown CSR policy {other}"),
    }
    policy
}

fn run_chain_case(dir: &Path, case: &Value) -> PkiVerdict {
    let bundle = std::fs::read(dir.join(case["bundle"].as_str().unwrap())).unwrap();
    let anchors = std::fs::read(dir.join(case["anchors"].as_str().unwrap())).unwrap();
    let at = fspiop_guard_core::rfc3339::parse(case["at"].as_str().unwrap()).unwrap();
    verify_bundle(&bundle, &anchors, at, &chain_policy(case)).verdict
}

fn assert_chain_cases(dir: &Path, cases: &[Value]) {
    let mut failures = Vec::new();
    for case in cases {
        let verdict = run_chain_case(dir, case);
        let expected = case["expected_reason"].as_str();
        let actual = verdict.reason.map(PkiReason::code);
        if actual != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {actual:?} ({})",
                case["name"], verdict.detail
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "chain cases failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn chain_cases_give_expected_reasons() {
    let dir = scratch_dir("chain");
    let (cases, openssl) = fixtures::write_chain_cases(&dir);
    if !openssl {
        eprintln!("NOTE: openssl CLI not found; the v1, SHA-1 and 1024-bit cases were skipped");
    }
    assert_chain_cases(&dir, &cases);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn committed_chain_cases_give_expected_reasons() {
    let dir = committed_cases();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 30, "only {} committed cases", cases.len());
    assert_chain_cases(&dir, &cases);
}

#[test]
fn csr_cases_give_expected_reasons() {
    let dir = scratch_dir("csr");
    let (cases, openssl) = fixtures::write_csr_cases(&dir);
    if !openssl {
        eprintln!("NOTE: openssl CLI not found; the SHA-1 CSR case was skipped");
    }
    let mut failures = Vec::new();
    for case in &cases {
        let input = std::fs::read(dir.join(case["csr"].as_str().unwrap())).unwrap();
        let report = check_csr(&input, &csr_policy(case["policy"].as_str().unwrap()));
        let expected = case["expected_reason"].as_str();
        let actual = report.verdict.reason.map(PkiReason::code);
        if actual != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {actual:?} ({})",
                case["name"], report.verdict.detail
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "CSR cases failed:\n{}",
        failures.join("\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csr_report_lists_mcm_codes() {
    let dir = scratch_dir("csr-codes");
    fixtures::write_csr_cases(&dir);
    let input = std::fs::read(dir.join("csr-rsa2048.pem")).unwrap();
    let report = check_csr(&input, &CsrPolicy::mcm());
    let codes: Vec<&str> = report
        .checks
        .iter()
        .map(|check| check.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "CSR_SIGNATURE_VALID",
            "CSR_SIGNATURE_ALGORITHM",
            "CSR_PUBLIC_KEY_TYPE",
            "CSR_PUBLIC_KEY_LENGTH_4096"
        ]
    );
    assert!(!report.checks[3].passed);
    assert!(report.checks[0].passed);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shuffled_bundle_warns_about_order() {
    let dir = committed_cases();
    let bundle = std::fs::read(dir.join("client-shuffled.pem")).unwrap();
    let anchors = std::fs::read(dir.join("hub-root.pem")).unwrap();
    let report = verify_bundle(
        &bundle,
        &anchors,
        fixtures::AT,
        &ChainPolicy::new(Usage::ClientAuth),
    );
    assert!(report.verdict.valid, "{}", report.verdict.detail);
    let codes: Vec<&str> = report.verdict.warnings.iter().map(|w| w.code).collect();
    assert!(codes.contains(&"bundle-leaf-not-first"), "{codes:?}");
    assert_eq!(report.path.len(), 3);
    assert_eq!(report.path[2].subject, "CN=Hub Root CA");
}

#[test]
fn glued_pem_keeps_both_certificates() {
    let text = std::fs::read(committed_cases().join("trap-glued.pem")).unwrap();
    let bundle = read_bundle(&text).unwrap();
    assert_eq!(bundle.certificates().len(), 2);
    assert_eq!(bundle.warnings[0].code, "pem-glued-blocks");
}

#[test]
fn expired_detail_names_certificate_and_date() {
    let dir = committed_cases();
    let bundle = std::fs::read(dir.join("expired.pem")).unwrap();
    let anchors = std::fs::read(dir.join("hub-root.pem")).unwrap();
    let report = verify_bundle(
        &bundle,
        &anchors,
        fixtures::AT,
        &ChainPolicy::new(Usage::ClientAuth),
    );
    assert_eq!(report.verdict.reason, Some(PkiReason::CertExpired));
    assert!(
        report.verdict.detail.contains("CN=expired"),
        "{}",
        report.verdict.detail
    );
    assert!(
        report.verdict.detail.contains("2026-01-01T00:00:00Z"),
        "{}",
        report.verdict.detail
    );
}

#[test]
fn inspect_reports_fields() {
    let dir = committed_cases();
    let text = std::fs::read(dir.join("client-chain.pem")).unwrap();
    let bundle = read_bundle(&text).unwrap();
    let info = inspect_certificate(bundle.certificates()[0]).unwrap();
    assert_eq!(info.subject, "CN=payerfsp");
    assert_eq!(info.issuer, "CN=Hub Intermediate CA");
    assert_eq!(info.version, 3);
    assert_eq!(info.key, KeyDescription::Rsa { bits: 4096 });
    assert_eq!(info.signature_algorithm, "sha256WithRSAEncryption");
    assert_eq!(info.extended_key_usage, Some(vec!["clientAuth".to_owned()]));
    assert_eq!(info.not_before_text, "2026-01-01T00:00:00Z");
    assert_eq!(info.sha256_fingerprint.len(), 32 * 3 - 1);
}

#[test]
fn verdict_json_shape_stable() {
    let dir = committed_cases();
    let bundle = std::fs::read(dir.join("client-chain.pem")).unwrap();
    let anchors = std::fs::read(dir.join("other-root.pem")).unwrap();
    let report = verify_bundle(
        &bundle,
        &anchors,
        fixtures::AT,
        &ChainPolicy::new(Usage::ClientAuth),
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["valid"], Value::Bool(false));
    assert_eq!(json["reason"], "CHAIN_UNKNOWN_ISSUER");
    assert!(json["detail"].is_string());
    assert!(json["warnings"].is_array());
    assert_eq!(json["leaf"]["subject"], "CN=payerfsp");
}

/// Rewrites the committed cases; run it after changing the generator:
/// `cargo test -p fspiop-guard-core --features x509-checks,jwt --test pki -- --ignored`.
#[test]
#[ignore = "rewrites the committed fixtures"]
fn regenerate_committed_cases() {
    let dir = committed_cases();
    let _ = std::fs::remove_dir_all(&dir);
    let (_, openssl) = fixtures::write_chain_cases(&dir);
    let (_, openssl_csr) = fixtures::write_csr_cases(&dir);
    assert!(
        openssl && openssl_csr,
        "the committed cases need the openssl CLI"
    );
}

/// Rewrites `examples/pki`; run it after changing the example generator:
/// `cargo test -p fspiop-guard-core --features x509-checks,jwt --test pki -- --ignored`.
#[test]
#[ignore = "rewrites the committed examples"]
fn regenerate_examples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pki");
    fixtures::write_examples(&dir);
}
