//! The `fspiop-guard` binary: exit codes, output, key sources, batch mode, signing and
//! inspection.
//!
//! Requests come from `examples/requests/`, signed on 13 May 2026, so every verification
//! runs `--at` that time. Public keys come from `examples/keys/`, and the signing key is
//! the throwaway test key in `crates/core/tests/keys/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Verification time of the example requests.
const AT: &str = "2026-05-13T14:39:12Z";

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// Exit code and output of one run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Parses standard output as one JSON value.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", self.stdout))
    }

    /// Parses standard output as JSON lines.
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("line is not JSON ({error}): {line}"))
            })
            .collect()
    }
}

fn run_with_input(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fspiop-guard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with_input(args, "")
}

/// Returns the value at a JSON pointer such as `/verdict/reason`, or null when absent.
fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// Returns a path inside the repository as a string argument.
fn repo(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join(path).to_str().unwrap().to_owned()
}

fn example(file: &str) -> String {
    repo(&format!("examples/requests/{file}"))
}

fn signing_key_path() -> String {
    repo("crates/core/tests/keys/payerfsp.key.pem")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// A directory under the system temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("fspiop-guard-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// Writes `contents` to `name` in the directory and returns the file's path.
    fn write(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Verifies an example request with `--json` at [`AT`].
fn verify_example(file: &str, keys: &str, extra: &[&str]) -> Run {
    let request = example(file);
    let keys = repo(keys);
    let mut args = vec![
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        AT,
        "--json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Reads a raw HTTP example into the JSON request form `{method, url, headers, body}`.
fn example_as_json(file: &str) -> Value {
    let text = read(&example(file));
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let mut headers = serde_json::Map::new();
    for line in lines {
        let (name, value) = line.split_once(": ").unwrap();
        headers.insert(name.to_owned(), json!(value));
    }
    json!({
        "method": request_line.first().unwrap(),
        "url": request_line.get(1).unwrap(),
        "headers": headers,
        "body": body,
    })
}

// ---------------------------------------------------------------------------
// Example requests
// ---------------------------------------------------------------------------

#[test]
fn example_01_post_quotes_valid() {
    let run = verify_example("01-valid-post-quotes.http", "examples/keys", &[]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("accepted"), Some(&json!(true)));
}

#[test]
fn example_02_put_transfers_valid() {
    let run = verify_example("02-valid-put-transfers.http", "examples/keys", &[]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("accepted"), Some(&json!(true)));
}

#[test]
fn example_03_es256_transfer_valid() {
    let run = verify_example("03-valid-es256-transfer.http", "examples/keys", &[]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("alg"), Some(&json!("ES256")));
}

#[test]
fn example_04_hub_callback_valid() {
    let run = verify_example("04-valid-hub-callback.http", "examples/keys", &[]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("participant"), Some(&json!("switch")));
}

#[test]
fn example_05_reserialised_body_valid() {
    let run = verify_example("05-reserialised-body.http", "examples/keys", &[]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("payload_form"), Some(&json!("sorted-json")));
}

#[test]
fn example_06_tampered_body_invalid() {
    let run = verify_example("06-tampered-body.http", "examples/keys", &[]);

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("SIGNATURE_MISMATCH")));
}

#[test]
fn example_07_rewritten_uri_invalid() {
    let run = verify_example("07-rewritten-fspiop-uri.http", "examples/keys", &[]);

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("URI_MISMATCH")));
}

#[test]
fn example_08_rotated_out_key_invalid() {
    let run = verify_example(
        "08-rotated-out-key.http",
        "examples/keys-after-rotation.json",
        &[],
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("SIGNATURE_MISMATCH")));
}

#[test]
fn example_08_diagnosis_finds_retired_key() {
    let run = verify_example(
        "08-rotated-out-key.http",
        "examples/keys-after-rotation.json",
        &[],
    );
    let verdict = run.json();
    let matches = verdict
        .get("diagnosis")
        .and_then(|diagnosis| diagnosis.get("matches"))
        .and_then(Value::as_array)
        .unwrap();

    assert!(!matches.is_empty(), "{verdict}");
    for found in matches {
        assert_eq!(found.get("participant"), Some(&json!("payerfsp")));
        assert_eq!(found.get("active"), Some(&json!(false)));
    }
}

#[test]
fn example_08_valid_before_retirement() {
    let request = example("08-rotated-out-key.http");
    let keys = repo("examples/keys-after-rotation.json");

    let run = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        "2026-05-09T23:59:59Z",
    ]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

#[test]
fn json_output_of_valid_request() {
    let verdict = verify_example("01-valid-post-quotes.http", "examples/keys", &[]).json();

    assert_eq!(verdict.get("accepted"), Some(&json!(true)));
    assert_eq!(verdict.get("reason"), Some(&Value::Null));
    assert_eq!(verdict.get("fspiop_error"), Some(&Value::Null));
}

#[test]
fn json_output_of_invalid_request() {
    let verdict = verify_example("06-tampered-body.http", "examples/keys", &[]).json();

    assert_eq!(verdict.get("accepted"), Some(&json!(false)));
    assert_eq!(verdict.get("reason"), Some(&json!("SIGNATURE_MISMATCH")));
    assert_eq!(verdict.get("fspiop_error"), Some(&json!("3105")));
}

#[test]
fn no_diagnosis_omits_diagnosis() {
    let verdict = verify_example(
        "06-tampered-body.http",
        "examples/keys",
        &["--no-diagnosis"],
    )
    .json();

    assert_eq!(verdict.get("diagnosis"), None);
}

#[test]
fn text_output_names_reason_and_error() {
    let request = example("06-tampered-body.http");
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &request, "--keys", &keys, "--at", AT]);

    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("INVALID  SIGNATURE_MISMATCH (FSPIOP 3105 Invalid signature)"),
        "{}",
        run.stdout
    );
}

#[test]
fn text_output_of_valid_request() {
    let request = example("01-valid-post-quotes.http");
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &request, "--keys", &keys, "--at", AT]);

    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("VALID "), "{}", run.stdout);
    assert!(run.stdout.contains("\"payerfsp\""), "{}", run.stdout);
}

// ---------------------------------------------------------------------------
// Profiles and options
// ---------------------------------------------------------------------------

#[test]
fn strict_profile_accepts_sorted_signed_body() {
    let run = verify_example(
        "01-valid-post-quotes.http",
        "examples/keys",
        &["--profile", "strict"],
    );

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn strict_profile_rejects_reserialised_body() {
    let run = verify_example(
        "05-reserialised-body.http",
        "examples/keys",
        &["--profile", "strict"],
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("SIGNATURE_MISMATCH")));
    assert_eq!(run.json().get("forms_tried"), Some(&json!(["raw"])));
}

#[test]
fn unknown_profile_lists_names() {
    let run = verify_example(
        "01-valid-post-quotes.http",
        "examples/keys",
        &["--profile", "lenient"],
    );

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"lenient\""), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("mojaloop-sdk, sdk-19.19, sdk-19.18, strict"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_at_times_exit_2() {
    let request = example("01-valid-post-quotes.http");
    let keys = repo("examples/keys");
    for at in [
        "yesterday",
        "2026-05-13",
        "2026-05-13T14:39:12",
        "2026-13-13T14:39:12Z",
        "2026-05-13T25:39:12Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-05-13T14:39:12+24:00",
        "2026-05-13T14:39:12+05:60",
        "2026-05-13T14:39:12+-1:00",
    ] {
        let run = run(&["verify", "--request", &request, "--keys", &keys, "--at", at]);

        assert_eq!(run.code, 2, "--at {at}");
        assert!(run.stderr.contains("RFC 3339"), "--at {at}: {}", run.stderr);
    }
}

#[test]
fn at_with_offset_accepted() {
    let request = example("08-rotated-out-key.http");
    let keys = repo("examples/keys-after-rotation.json");

    let run = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        "2026-05-10T01:59:59+02:00",
    ]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn at_on_leap_day_accepted() {
    let request = example("01-valid-post-quotes.http");
    let keys = repo("examples/keys");

    let run = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        "2028-02-29T00:00:00Z",
    ]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn missing_request_file_exit_2() {
    let temp = TempDir::new("missing_request_file_exit_2");
    let missing = temp.path("absent.http");
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &missing, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&missing), "{}", run.stderr);
}

#[test]
fn unparsable_request_file_exit_2() {
    let temp = TempDir::new("unparsable_request_file_exit_2");
    let request = temp.write("broken.http", "POST /quotes\r\n\r\n");
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &request, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&request), "{}", run.stderr);
}

#[test]
fn missing_keys_path_exit_2() {
    let temp = TempDir::new("missing_keys_path_exit_2");
    let missing = temp.path("keys");
    let request = example("01-valid-post-quotes.http");

    let run = run(&["verify", "--request", &request, "--keys", &missing]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&missing), "{}", run.stderr);
}

#[test]
fn missing_keys_option_exit_2() {
    let request = example("01-valid-post-quotes.http");

    let run = run(&["verify", "--request", &request]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--keys"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// Key sources
// ---------------------------------------------------------------------------

#[test]
fn keys_from_single_pem_file() {
    let run = verify_example(
        "01-valid-post-quotes.http",
        "examples/keys/payerfsp.pem",
        &[],
    );

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn single_pem_names_its_participant() {
    let run = verify_example(
        "01-valid-post-quotes.http",
        "examples/keys/payeefsp.pem",
        &[],
    );

    assert_eq!(run.code, 1);
    assert_eq!(run.json().get("reason"), Some(&json!("UNKNOWN_SOURCE")));
}

#[test]
fn empty_key_directory_exit_2() {
    let temp = TempDir::new("empty_key_directory_exit_2");
    let request = example("01-valid-post-quotes.http");
    let keys = temp.0.to_str().unwrap().to_owned();

    let run = run(&["verify", "--request", &request, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&keys), "{}", run.stderr);
}

#[test]
fn key_map_with_retire_after() {
    let temp = TempDir::new("key_map_with_retire_after");
    let pem = read(&repo("examples/keys/payerfsp.pem"));
    let map = json!({
        "payerfsp": [{"pem": pem, "retire_after": "2026-05-13T14:39:13Z"}],
    });
    let keys = temp.write("keys.json", &map.to_string());
    let request = example("01-valid-post-quotes.http");

    let before = run(&["verify", "--request", &request, "--keys", &keys, "--at", AT]);
    let after = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        "2026-05-13T14:39:13Z",
        "--json",
    ]);

    assert_eq!(before.code, 0, "{}{}", before.stdout, before.stderr);
    assert_eq!(after.code, 1, "{}{}", after.stdout, after.stderr);
    assert_eq!(after.json().get("reason"), Some(&json!("UNKNOWN_SOURCE")));
}

#[test]
fn key_map_with_plain_pem_string() {
    let temp = TempDir::new("key_map_with_plain_pem_string");
    let map = json!({ "payerfsp": read(&repo("examples/keys/payerfsp.pem")) });
    let keys = temp.write("keys.json", &map.to_string());
    let request = example("01-valid-post-quotes.http");

    let run = run(&["verify", "--request", &request, "--keys", &keys, "--at", AT]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn key_map_unusable_pem_string() {
    let temp = TempDir::new("key_map_unusable_pem_string");
    let keys = temp.write("keys.json", r#"{"payerfsp": "not a key"}"#);
    let request = example("01-valid-post-quotes.http");

    let run = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        AT,
        "--json",
    ]);

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("KEY_UNUSABLE")));
}

#[test]
fn key_map_unusable_pem_in_list() {
    let temp = TempDir::new("key_map_unusable_pem_in_list");
    let keys = temp.write("keys.json", r#"{"payerfsp": [{"pem": "not a key"}]}"#);
    let request = example("01-valid-post-quotes.http");

    let run = run(&[
        "verify",
        "--request",
        &request,
        "--keys",
        &keys,
        "--at",
        AT,
        "--json",
    ]);

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("reason"), Some(&json!("KEY_UNUSABLE")));
}

#[test]
fn key_map_invalid_retire_after_exit_2() {
    let temp = TempDir::new("key_map_invalid_retire_after_exit_2");
    let pem = read(&repo("examples/keys/payerfsp.pem"));
    let map = json!({ "payerfsp": [{"pem": pem, "retire_after": "next week"}] });
    let keys = temp.write("keys.json", &map.to_string());
    let request = example("01-valid-post-quotes.http");

    let run = run(&["verify", "--request", &request, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("retire_after"), "{}", run.stderr);
}

#[test]
fn key_map_not_json_exit_2() {
    let temp = TempDir::new("key_map_not_json_exit_2");
    let keys = temp.write("keys.json", "payerfsp: key");
    let request = example("01-valid-post-quotes.http");

    let run = run(&["verify", "--request", &request, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&keys), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// verify --batch
// ---------------------------------------------------------------------------

#[test]
fn verify_batch_keeps_line_order() {
    let payer_pem = read(&repo("examples/keys/payerfsp.pem"));
    let lines = [
        json!({
            "id": "valid",
            "request": example_as_json("01-valid-post-quotes.http"),
            "keys": {"payerfsp": payer_pem},
        })
        .to_string(),
        json!({
            "id": "tampered",
            "request": example_as_json("06-tampered-body.http"),
            "keys": {"payerfsp": payer_pem},
        })
        .to_string(),
        "{\"id\": \"broken\", ".to_owned(),
        json!({
            "id": "no-keys",
            "request": example_as_json("01-valid-post-quotes.http"),
        })
        .to_string(),
    ];
    let input = format!("{}\n", lines.join("\n"));

    let run = run_with_input(&["verify", "--batch", "--at", AT], &input);
    let output = run.json_lines();

    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<&Value> = output.iter().map(|line| at(line, "/id")).collect();
    assert_eq!(
        ids,
        [
            &json!("valid"),
            &json!("tampered"),
            &Value::Null,
            &json!("no-keys")
        ]
    );
}

#[test]
fn verify_batch_verdicts_per_line() {
    let payer_pem = read(&repo("examples/keys/payerfsp.pem"));
    let lines = [
        json!({
            "id": 1,
            "request": example_as_json("01-valid-post-quotes.http"),
            "keys": {"payerfsp": payer_pem},
        }),
        json!({
            "id": 2,
            "request": example_as_json("06-tampered-body.http"),
            "keys": {"payerfsp": payer_pem},
        }),
        json!({"id": 3, "request": example_as_json("01-valid-post-quotes.http")}),
    ];
    let input: String = lines.iter().map(|line| format!("{line}\n")).collect();

    let output = run_with_input(&["verify", "--batch", "--at", AT], &input).json_lines();
    let reasons: Vec<&Value> = output
        .iter()
        .map(|line| at(line, "/verdict/reason"))
        .collect();

    assert_eq!(
        reasons,
        [
            &Value::Null,
            &json!("SIGNATURE_MISMATCH"),
            &json!("UNKNOWN_SOURCE")
        ]
    );
}

#[test]
fn verify_batch_reports_malformed_line() {
    let run = run_with_input(&["verify", "--batch", "--at", AT], "not json\n");
    let output = run.json_lines();

    assert_eq!(output.len(), 1);
    assert!(
        output
            .first()
            .and_then(|line| line.get("error"))
            .is_some_and(Value::is_string),
        "{}",
        run.stdout
    );
}

#[test]
fn verify_batch_uses_base_keys() {
    let line = json!({"id": 1, "request": example_as_json("01-valid-post-quotes.http")});
    let keys = repo("examples/keys");

    let output = run_with_input(
        &["verify", "--batch", "--keys", &keys, "--at", AT],
        &format!("{line}\n"),
    )
    .json_lines();

    let accepted: Vec<&Value> = output
        .iter()
        .map(|line| at(line, "/verdict/accepted"))
        .collect();
    assert_eq!(accepted, [&json!(true)]);
}

// ---------------------------------------------------------------------------
// sign
// ---------------------------------------------------------------------------

const UNSIGNED_BODY: &str = r#"{"quoteId":"q-1","amount":{"currency":"USD","amount":"5"}}"#;

/// Returns an unsigned quote request from payerfsp as raw HTTP.
fn unsigned_quote() -> String {
    format!(
        "POST /quotes HTTP/1.1\r\n\
         Host: dfsp.example\r\n\
         Content-Type: application/vnd.interoperability.quotes+json;version=1.1\r\n\
         Date: Wed, 13 May 2026 14:39:12 GMT\r\n\
         FSPIOP-Source: payerfsp\r\n\
         FSPIOP-Destination: payeefsp\r\n\
         Content-Length: {}\r\n\
         \r\n\
         {UNSIGNED_BODY}",
        UNSIGNED_BODY.len()
    )
}

/// Signs [`unsigned_quote`] with the CLI and writes the output to `signed.http`.
fn sign_quote_to_file(temp: &TempDir, extra: &[&str]) -> String {
    let unsigned = temp.write("unsigned.http", &unsigned_quote());
    let key = signing_key_path();
    let mut args = vec!["sign", "--key", &key, "--request", &unsigned];
    args.extend_from_slice(extra);

    let signed = run(&args);

    assert_eq!(signed.code, 0, "{}", signed.stderr);
    temp.write("signed.http", &signed.stdout)
}

fn verify_file(request: &str, profile: &str) -> Run {
    let keys = repo("examples/keys");
    run(&[
        "verify",
        "--request",
        request,
        "--keys",
        &keys,
        "--at",
        AT,
        "--profile",
        profile,
        "--json",
    ])
}

#[test]
fn sign_then_verify_mojaloop_sdk() {
    let temp = TempDir::new("sign_then_verify_mojaloop_sdk");
    let signed = sign_quote_to_file(&temp, &[]);

    let run = verify_file(&signed, "mojaloop-sdk");

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json().get("payload_form"), Some(&json!("raw")));
}

#[test]
fn sign_then_verify_strict() {
    let temp = TempDir::new("sign_then_verify_strict");
    let signed = sign_quote_to_file(&temp, &[]);

    let run = verify_file(&signed, "strict");

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn sign_legacy_mode_then_verify() {
    let temp = TempDir::new("sign_legacy_mode_then_verify");
    let signed = sign_quote_to_file(&temp, &["--mode", "sdk-19.18"]);

    let run = verify_file(&signed, "strict");

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn sign_sorts_body_keys() {
    let temp = TempDir::new("sign_sorts_body_keys");
    let signed = read(&sign_quote_to_file(&temp, &[]));

    assert!(
        signed.contains("{\"amount\":{\"amount\":\"5\",\"currency\":\"USD\"},\"quoteId\":\"q-1\"}"),
        "{signed}"
    );
}

#[test]
fn sign_without_source_exit_2() {
    let temp = TempDir::new("sign_without_source_exit_2");
    let unsigned = temp.write(
        "unsigned.http",
        &unsigned_quote().replace("FSPIOP-Source: payerfsp\r\n", ""),
    );
    let key = signing_key_path();

    let run = run(&["sign", "--key", &key, "--request", &unsigned]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("FSPIOP-Source"), "{}", run.stderr);
}

#[test]
fn sign_unknown_mode_exit_2() {
    let temp = TempDir::new("sign_unknown_mode_exit_2");
    let unsigned = temp.write("unsigned.http", &unsigned_quote());
    let key = signing_key_path();

    let run = run(&[
        "sign",
        "--key",
        &key,
        "--request",
        &unsigned,
        "--mode",
        "sdk-20",
    ]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("sdk-19.19"), "{}", run.stderr);
}

#[test]
fn sign_with_public_key_exit_2() {
    let temp = TempDir::new("sign_with_public_key_exit_2");
    let unsigned = temp.write("unsigned.http", &unsigned_quote());
    let key = repo("examples/keys/payerfsp.pem");

    let run = run(&["sign", "--key", &key, "--request", &unsigned]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&key), "{}", run.stderr);
}

#[test]
fn sign_batch_output_verifies_in_batch() {
    let key_pem = read(&signing_key_path());
    let public_pem = read(&repo("examples/keys/payerfsp.pem"));
    let headers = json!({
        "Date": "Wed, 13 May 2026 14:39:12 GMT",
        "FSPIOP-Source": "payerfsp",
        "FSPIOP-Destination": "payeefsp",
    });
    let sign_lines = [
        json!({
            "id": "sorted", "mode": "sdk-19.19", "key": key_pem,
            "request": {"method": "POST", "url": "/quotes", "headers": headers,
                        "body": {"quoteId": "q-1", "amount": {"currency": "USD", "amount": "5"}}},
        }),
        json!({
            "id": "legacy", "mode": "sdk-19.18", "key": key_pem,
            "request": {"method": "PUT", "url": "/transfers/t-1", "headers": headers,
                        "body": {"transferState": "COMMITTED"}},
        }),
        json!({
            "id": "text", "key": key_pem, "alg": "PS256",
            "request": {"method": "POST", "url": "https://hub.example/fxQuotes", "headers": headers,
                        "body": "{ \"conversionRequestId\": \"c-1\" }"},
        }),
    ];
    let sign_input: String = sign_lines.iter().map(|line| format!("{line}\n")).collect();

    let signed = run_with_input(&["sign", "--batch"], &sign_input);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let signed_lines = signed.json_lines();
    assert_eq!(signed_lines.len(), 3, "{}", signed.stdout);

    let mut verify_input = String::new();
    for (signed_line, sign_line) in signed_lines.iter().zip(&sign_lines) {
        assert_eq!(signed_line.get("error"), None, "{signed_line}");
        let request = json!({
            "method": at(sign_line, "/request/method"),
            "url": at(signed_line, "/headers/fspiop-uri"),
            "headers": at(signed_line, "/headers"),
            "body": at(signed_line, "/body"),
        });
        let line = json!({
            "id": at(signed_line, "/id"),
            "request": request,
            "keys": {"payerfsp": public_pem},
        });
        verify_input.push_str(&format!("{line}\n"));
    }
    let verified = run_with_input(
        &["verify", "--batch", "--profile", "strict", "--at", AT],
        &verify_input,
    );

    let verdicts = verified.json_lines();
    assert_eq!(verdicts.len(), 3, "{}", verified.stdout);
    for verdict in &verdicts {
        assert_eq!(
            at(verdict, "/verdict/accepted"),
            &json!(true),
            "{}",
            at(verdict, "/verdict/message")
        );
    }
}

#[test]
fn sign_batch_reports_error_per_line() {
    let line = json!({
        "id": 7, "key": read(&signing_key_path()),
        "request": {"method": "POST", "url": "/quotes", "headers": {}, "body": {"a": 1}},
    });

    let output = run_with_input(&["sign", "--batch"], &format!("{line}\n")).json_lines();

    let [result] = output.as_slice() else {
        panic!("expected one output line, got {output:?}");
    };
    assert_eq!(at(result, "/id"), &json!(7));
    assert!(
        at(result, "/error")
            .as_str()
            .is_some_and(|error| error.contains("FSPIOP-Source")),
        "{result}"
    );
}

// ---------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------

/// Returns the `FSPIOP-Signature` value of an example request.
fn example_signature(file: &str) -> String {
    let text = read(&example(file));
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("FSPIOP-Signature: "))
        .unwrap();
    line.trim_end().to_owned()
}

#[test]
fn inspect_signature_value() {
    let value = example_signature("01-valid-post-quotes.http");

    let run = run(&["inspect", &value]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("FSPIOP-Source"), "{}", run.stdout);
    assert!(run.stdout.contains("payerfsp"), "{}", run.stdout);
    assert!(run.stdout.contains("256 bytes"), "{}", run.stdout);
}

#[test]
fn inspect_signature_file_positional() {
    let temp = TempDir::new("inspect_signature_file_positional");
    let file = temp.write(
        "signature.json",
        &example_signature("04-valid-hub-callback.http"),
    );

    let run = run(&["inspect", &file]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("switch"), "{}", run.stdout);
}

#[test]
fn inspect_invalid_signature_value_exit_2() {
    let run = run(&["inspect", r#"{"protectedHeader":"eyJ=","signature":"x"}"#]);

    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("PROTECTED_HEADER_NOT_BASE64URL"),
        "{}",
        run.stderr
    );
}

#[test]
fn inspect_public_key_file() {
    let key = repo("examples/keys/payerfsp.pem");

    let run = run(&["inspect", "--key", &key]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("RSA 2048 bits"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("UAw_jg42Eq-t67BcX_v9f4GghKClihAsn09I7keIbvg"),
        "{}",
        run.stdout
    );
}

#[test]
fn inspect_key_file_positional() {
    let key = repo("examples/keys/ecfsp.pem");

    let run = run(&["inspect", &key]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("EC"), "{}", run.stdout);
    assert!(run.stdout.contains("BEGIN PUBLIC KEY"), "{}", run.stdout);
}

#[test]
fn inspect_private_key_warns() {
    let run = run(&["inspect", "--key", &signing_key_path()]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("warning"), "{}", run.stdout);
}

#[test]
fn inspect_request_file() {
    let request = example("03-valid-es256-transfer.http");

    let run = run(&["inspect", "--request", &request]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("ES256"), "{}", run.stdout);
    assert!(run.stdout.contains("64 bytes"), "{}", run.stdout);
}

#[test]
fn inspect_request_file_positional() {
    let request = example("02-valid-put-transfers.http");

    let run = run(&["inspect", &request]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("payeefsp"), "{}", run.stdout);
}

#[test]
fn inspect_json_request_file_positional() {
    let temp = TempDir::new("inspect_json_request_file_positional");
    let request = temp.write(
        "request.json",
        &example_as_json("02-valid-put-transfers.http").to_string(),
    );

    let run = run(&["inspect", &request]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("payeefsp"), "{}", run.stdout);
}

#[test]
fn inspect_request_without_signature_exit_2() {
    let temp = TempDir::new("inspect_request_without_signature_exit_2");
    let request = temp.write("unsigned.http", &unsigned_quote());

    let run = run(&["inspect", "--request", &request]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&request), "{}", run.stderr);
}

#[test]
fn response_file_is_named_as_response() {
    let dir = TempDir::new("response-file");
    let response = dir.write("response.http", "HTTP/1.1 400 Bad Request\r\n\r\n{}");
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &response, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("HTTP response"), "{}", run.stderr);
}

#[test]
fn request_directory_is_rejected_clearly() {
    let keys = repo("examples/keys");

    let run = run(&["verify", "--request", &keys, "--keys", &keys]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
}

#[test]
fn key_map_with_wrong_shape_exits_2() {
    let dir = TempDir::new("key-map-shape");
    let map = dir.write("keys.json", r#"{"payerfsp": {"pem": "x"}}"#);

    let run = verify_example("01-valid-post-quotes.http", &map, &[]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"payerfsp\""), "{}", run.stderr);
}

#[test]
fn inspect_accepts_pasted_header_line() {
    let request = read(&example("01-valid-post-quotes.http"));
    let line = request
        .lines()
        .find(|line| line.starts_with("FSPIOP-Signature:"))
        .unwrap();

    let run = run(&["inspect", line]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("FSPIOP-Source"), "{}", run.stdout);
}

#[test]
fn inspect_missing_file_says_not_found() {
    let run = run(&["inspect", "no/such/key.pem"]);

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
}

#[test]
fn at_accepts_http_date() {
    let request = example("01-valid-post-quotes.http");
    let keys = repo("examples/keys");
    let at = "Wed, 13 May 2026 14:39:12 GMT";

    let run = run(&["verify", "--request", &request, "--keys", &keys, "--at", at]);

    assert_eq!(run.code, 0, "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// replay: the Envoy filter module over recorded requests
// ---------------------------------------------------------------------------

/// The filter module `make filter` builds; `FSPIOP_GUARD_FILTER_WASM` overrides it.
fn filter_module() -> String {
    if let Some(path) = std::env::var_os("FSPIOP_GUARD_FILTER_WASM") {
        return path.to_string_lossy().into_owned();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| repo("target"));
    format!("{target}/filter/fspiop_guard_envoy_filter.wasm")
}

fn replay(keyset: &str, extra: &[&str]) -> Run {
    let filter = filter_module();
    let config = repo("examples/filter/config.json");
    let keyset = repo(&format!("examples/filter/{keyset}"));
    let mut args = vec![
        "replay", "--filter", &filter, "--config", &config, "--keyset", &keyset, "--at", AT,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn replay_forwards_valid_and_rejects_tampered() {
    let valid = example("01-valid-post-quotes.http");
    let tampered = example("06-tampered-body.http");
    let run = replay("keyset.json", &["--json", &valid, &tampered]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(at(&lines[0], "/outcome"), "forwarded");
    assert!(
        at(&lines[0], "/verified")
            .as_str()
            .unwrap()
            .contains("participant=\"payerfsp\"")
    );
    assert_eq!(at(&lines[1], "/outcome"), "rejected");
    assert_eq!(at(&lines[1], "/status"), 400);
    assert_eq!(at(&lines[1], "/error_code"), "3105");
    assert_eq!(at(&lines[1], "/reason"), "SIGNATURE_MISMATCH");
}

#[test]
fn replay_applies_key_rotation() {
    let rotated = example("08-rotated-out-key.http");
    assert_eq!(replay("keyset.json", &[&rotated]).code, 0);
    let run = replay("keyset-after-rotation.json", &[&rotated]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("SIGNATURE_MISMATCH"), "{}", run.stdout);
}

#[test]
fn replay_without_foreign_function_gives_same_verdicts() {
    let files: Vec<String> = (1..=8)
        .map(|n| {
            let name = std::fs::read_dir(repo("examples/requests"))
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|f| f.starts_with(&format!("{n:02}-")))
                .unwrap();
            example(&name)
        })
        .collect();
    let mut with: Vec<&str> = vec!["--json"];
    with.extend(files.iter().map(String::as_str));
    let mut without = with.clone();
    without.push("--no-foreign-function");
    assert_eq!(
        replay("keyset.json", &with).stdout,
        replay("keyset.json", &without).stdout
    );
}

#[test]
fn replay_names_the_bad_config_field() {
    let dir = std::env::temp_dir().join(format!("fspiop-guard-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"key_source":{"cluster":"k","timeout":5}}"#).unwrap();
    let filter = filter_module();
    let run = run(&[
        "replay",
        "--filter",
        &filter,
        "--config",
        config.to_str().unwrap(),
        &example("01-valid-post-quotes.http"),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("key_source.timeout"), "{}", run.stderr);
}

#[test]
fn replay_says_why_a_request_went_through() {
    let valid = example("01-valid-post-quotes.http");
    let run = replay("keyset.json", &["--json", &valid]);
    assert_eq!(at(&run.json_lines()[0], "/check"), "verified");

    let run = replay("keyset.json", &[&valid]);
    assert!(
        run.stdout.contains("forwarded (signature verified)"),
        "{}",
        run.stdout
    );
}

#[test]
fn replay_answers_a_stalled_request_after_hold_timeout() {
    let valid = example("01-valid-post-quotes.http");
    let dir = std::env::temp_dir().join(format!("fspiop-guard-hold-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    let mut text: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("examples/filter/config.json")).unwrap(),
    )
    .unwrap();
    text["flow"] = Value::from("hold-headers");
    std::fs::write(&config, text.to_string()).unwrap();

    let filter = filter_module();
    let keyset = repo("examples/filter/keyset.json");
    let run = run(&[
        "replay",
        "--filter",
        &filter,
        "--config",
        config.to_str().unwrap(),
        "--keyset",
        &keyset,
        "--at",
        AT,
        "--no-stop-iteration",
        "--json",
        &valid,
    ]);
    let lines = run.json_lines();
    assert_eq!(at(&lines[0], "/outcome"), "rejected", "{}", run.stdout);
    assert_eq!(at(&lines[0], "/reason"), "HOLD_TIMEOUT");
}

#[test]
fn replay_warns_when_no_key_set_is_given() {
    let filter = filter_module();
    let config = repo("examples/filter/config.json");
    let run = run(&[
        "replay",
        "--filter",
        &filter,
        "--config",
        &config,
        &example("01-valid-post-quotes.http"),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--keyset"), "{}", run.stderr);
    assert!(run.stdout.contains("NO_KEYS"), "{}", run.stdout);
}

#[test]
fn verify_reads_a_key_set_document() {
    let run = verify_example(
        "01-valid-post-quotes.http",
        "examples/filter/keyset.json",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
