//! `chain`, `csr`, `inspect` and `expiry` through the binary.
//!
//! The chain and CSR cases are the committed ones of `crates/core/tests/fixtures/pki/cases`,
//! which the core's own tests check too, so the CLI must report the same reason codes.
//! The expiry report runs over `examples/pki` at 2026-05-13T14:39:12Z.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const AT: &str = "2026-05-13T14:39:12Z";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_fspiop-guard"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn cases_dir() -> PathBuf {
    repo("crates/core/tests/fixtures/pki/cases")
}

fn text(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

#[test]
fn chain_cases_match_core_reasons() {
    let dir = cases_dir();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let bundle = text(&dir.join(case["bundle"].as_str().unwrap()));
        let anchors = text(&dir.join(case["anchors"].as_str().unwrap()));
        let mut args = vec![
            "chain",
            bundle.as_str(),
            "--ca",
            anchors.as_str(),
            "--usage",
            case["usage"].as_str().unwrap(),
            "--at",
            case["at"].as_str().unwrap(),
            "--json",
        ];
        if let Some(name) = case["expected_name"].as_str() {
            args.extend(["--name", name]);
        }
        if let Some(policy) = case["policy"].as_str() {
            args.extend(["--policy", policy]);
        }
        let result = run(&args);
        let report: Value = serde_json::from_str(&result.stdout).unwrap_or_else(|error| {
            panic!("{}: not JSON ({error}): {}", case["name"], result.stderr)
        });
        let expected = case["expected_reason"].as_str();
        let expected_code = if expected.is_some() { 1 } else { 0 };
        if report["reason"].as_str() != expected || result.code != expected_code {
            failures.push(format!(
                "{}: expected {expected:?} (exit {expected_code}), got {} (exit {})",
                case["name"], report["reason"], result.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn csr_cases_match_core_reasons() {
    let dir = cases_dir();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("csr-cases.json")).unwrap())
            .unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let csr = text(&dir.join(case["csr"].as_str().unwrap()));
        let mut args = vec!["csr", csr.as_str(), "--json"];
        match case["policy"].as_str().unwrap() {
            "mcm" => {}
            "mcm-2048" => args.extend(["--min-rsa-bits", "2048"]),
            "mcm-cn" => args.extend(["--require-subject", "CN"]),
            "mcm-ecdsa-alg" => args.extend([
                "--allow-signature-algorithm",
                "sha256WithRSAEncryption",
                "--allow-signature-algorithm",
                "sha512WithRSAEncryption",
                "--allow-signature-algorithm",
                "ecdsa-with-SHA256",
            ]),
            other => panic!("unknown policy {other}"),
        }
        let result = run(&args);
        let report: Value = serde_json::from_str(&result.stdout).unwrap();
        let expected = case["expected_reason"].as_str();
        if report["reason"].as_str() != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {}",
                case["name"], report["reason"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chain_text_names_reason() {
    let dir = cases_dir();
    let result = run(&[
        "chain",
        &text(&dir.join("expired.pem")),
        "--ca",
        &text(&dir.join("hub-root.pem")),
        "--at",
        AT,
    ]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stdout
            .starts_with("REJECTED CERT_EXPIRED: CN=expired expired at 2026-01-01T00:00:00Z"),
        "{}",
        result.stdout
    );
}

#[test]
fn chain_unknown_usage_exit_2() {
    let dir = cases_dir();
    let result = run(&[
        "chain",
        &text(&dir.join("expired.pem")),
        "--ca",
        &text(&dir.join("hub-root.pem")),
        "--usage",
        "email",
    ]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("unknown usage \"email\""),
        "{}",
        result.stderr
    );
}

#[test]
fn inspect_certificate_bundle() {
    let result = run(&["inspect", &text(&cases_dir().join("client-chain.pem"))]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result.stdout.contains("subject     CN=payerfsp"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("subject     CN=Hub Intermediate CA"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("ext usage   clientAuth"),
        "{}",
        result.stdout
    );
}

#[test]
fn inspect_csr_json() {
    let result = run(&[
        "inspect",
        "--cert",
        &text(&cases_dir().join("csr-empty-subject.pem")),
        "--json",
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let value: Value = serde_json::from_str(&result.stdout).unwrap();
    let request = &value["items"][0]["certificate_request"];
    assert_eq!(request["subject"], "");
    assert_eq!(request["key"]["type"], "rsa");
    assert_eq!(request["key"]["bits"], 4096);
}

#[test]
fn inspect_key_only_pem_hides_key() {
    let result = run(&[
        "inspect",
        "--cert",
        &text(&cases_dir().join("trap-key-first.pem")),
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result.stdout.contains("PRIVATE KEY (line 1): not shown"),
        "{}",
        result.stdout
    );
    assert!(!result.stdout.contains("MAMCAQE"), "{}", result.stdout);
}

fn expiry(extra: &[&str]) -> Run {
    let inventory = text(&repo("examples/pki/inventory.json"));
    let mut args = vec!["expiry", "--inventory", inventory.as_str(), "--at", AT];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn expiry_table_lists_every_item() {
    let result = expiry(&[]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    for label in [
        "PM4ML server cert (inbound mTLS)",
        "Hub client cert (outbound mTLS)",
        "Hub server cert (inbound mTLS)",
        "PM4ML client cert (outbound mTLS)",
        "Hub JWS public key",
        "PM4ML JWS public key",
        "Hub-issued JWT",
        "Hub CA (from MCM)",
    ] {
        assert!(
            result.stdout.contains(label),
            "{label} missing:\n{}",
            result.stdout
        );
    }
    assert!(
        result
            .stdout
            .contains("no expiry, rotated by policy; 28 days old"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("renewBefore 720h, due"),
        "{}",
        result.stdout
    );
}

#[test]
fn expiry_json_statuses() {
    let result = expiry(&["--json"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let rows: Vec<Value> = serde_json::from_str(&result.stdout).unwrap();
    let status = |item: &str| {
        rows.iter()
            .find(|row| row["item"] == item)
            .map(|row| row["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(rows.len(), 8);
    assert_eq!(status("pm4ml-server-cert"), "renewal-due");
    assert_eq!(status("hub-client-cert"), "warning");
    assert_eq!(status("hub-server-cert"), "ok");
    assert_eq!(status("pm4ml-client-cert"), "expired");
    assert_eq!(status("hub-jws-key"), "no-expiry");
    assert_eq!(status("pm4ml-jws-key"), "no-expiry");
    assert_eq!(status("hub-jwt"), "ok");
    assert_eq!(status("hub-ca"), "ok");
    let server = rows
        .iter()
        .find(|row| row["item"] == "hub-server-cert")
        .unwrap();
    assert_eq!(server["renewal"]["at_text"], "2026-08-31T16:00:00Z");
    assert_eq!(server["renewal"]["rule"], "two-thirds of the lifetime");
    assert_eq!(server["days_left"], 231);
    let jws = rows
        .iter()
        .find(|row| row["item"] == "pm4ml-jws-key")
        .unwrap();
    assert_eq!(jws["age_days"], 101);
}

#[test]
fn expiry_prometheus_textfile() {
    let dir = std::env::temp_dir().join(format!("fspiop-guard-expiry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fspiop_guard.prom");
    let result = expiry(&["--prometheus", &text(&file)]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let metrics = std::fs::read_to_string(&file).unwrap();
    assert!(
        metrics.contains("# TYPE fspiop_guard_expiry_timestamp_seconds gauge"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "fspiop_guard_expiry_timestamp_seconds{item=\"pm4ml-client-cert\",direction=\"PM4ML → Hub\",managed_by=\"PM4ML + Vault\"} 1777593600"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("fspiop_guard_expiry_status{item=\"pm4ml-server-cert\",direction=\"Hub → PM4ML\",managed_by=\"cert-manager\",status=\"renewal-due\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fspiop_guard_expiry_report_timestamp_seconds 1778683152"),
        "{metrics}"
    );
    assert!(!dir.join("fspiop_guard.prom.tmp").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn expiry_healthy_items_exit_0() {
    let dir = repo("examples/pki");
    let result = run(&[
        "expiry",
        "--item",
        &format!("hub-server-cert={}", text(&dir.join("hub-server.yaml"))),
        "--item",
        &format!("hub-ca={}", text(&dir.join("hub-ca.json"))),
        "--at",
        AT,
    ]);
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);
    assert!(result.stdout.contains("not-checked"), "{}", result.stdout);
}

#[test]
fn expiry_unreadable_source_exit_2() {
    let result = run(&["expiry", "--item", "hub-jwt=/nonexistent/token", "--at", AT]);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(result.stdout.contains("error"), "{}", result.stdout);
}

#[test]
fn expiry_reads_hub_ca_over_http() {
    let body = std::fs::read_to_string(repo("examples/pki/hub-ca.json")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let read = stream.read(&mut request).unwrap();
        let head = String::from_utf8_lossy(&request[..read]).into_owned();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
        head
    });
    let result = run(&[
        "expiry",
        "--item",
        &format!("hub-ca=http://127.0.0.1:{port}/api/hub/ca"),
        "--at",
        AT,
        "--json",
    ]);
    let head = server.join().unwrap();
    assert!(head.starts_with("GET /api/hub/ca HTTP/1.1\r\n"), "{head}");
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);
    let rows: Vec<Value> = serde_json::from_str(&result.stdout).unwrap();
    let ca = rows.iter().find(|row| row["item"] == "hub-ca").unwrap();
    assert_eq!(ca["subject"], "CN=Hub Root CA");
    assert_eq!(ca["expires_text"], "2035-01-01T00:00:00Z");
}
