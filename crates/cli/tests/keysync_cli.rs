//! `fspiop-guard keysync --once` and `fspiop-guard publish-hub-key` against the MCM
//! stand-in on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc;

use mcm_standin::{StandIn, StandInConfig};

const BIN: &str = env!("CARGO_BIN_EXE_fspiop-guard");

fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/keys")
        .join(name)
}

/// Runs a stand-in on its own thread and returns a handle to it.
fn start_standin(config: StandInConfig) -> &'static StandIn {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let standin: &'static StandIn =
                Box::leak(Box::new(StandIn::start(config).await.unwrap()));
            sender.send(standin).unwrap();
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().unwrap()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("KEYSYNC_MCM_BASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn publish_sends_clean_pem_and_created_at() {
    let standin = start_standin(StandInConfig::default());
    let cert = key_path("certfsp.cert.pem");
    let output = run(&[
        "publish-hub-key",
        "--cert",
        cert.to_str().unwrap(),
        "--mcm",
        &standin.base_url(),
        "--created-at",
        "1796385600",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("as participant \"switch\""),
        "{}",
        text(&output.stdout)
    );

    let (stored, created_at) = standin.stored_key("switch").unwrap();
    let expected = std::fs::read_to_string(key_path("certfsp.pub.pem")).unwrap();
    let expected = fspiop_guard_core::keys::parse_public_key(&expected)
        .unwrap()
        .key
        .to_pem();
    assert_eq!(
        stored, expected,
        "MCM stores the SPKI PEM with its line breaks"
    );
    assert_eq!(created_at, Some(1_796_385_600.0));
}

#[test]
fn publish_hub_key_without_token_fails_on_401() {
    let standin = start_standin(StandInConfig {
        client: Some(("id".into(), "secret".into())),
        ..StandInConfig::default()
    });
    let cert = key_path("certfsp.cert.pem");
    let output = run(&[
        "publish-hub-key",
        "--cert",
        cert.to_str().unwrap(),
        "--mcm",
        &standin.base_url(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("HTTP status 401"), "{stderr}");
    assert!(stderr.contains("--token-file"), "{stderr}");
}

#[test]
fn keysync_once_writes_key_directory_and_state() {
    let standin = start_standin(StandInConfig::default());
    let pem = std::fs::read_to_string(key_path("certfsp.pub.pem")).unwrap();
    standin.put_key("dfsp1", &pem.replace('\n', "\r\n"), Some(1.0));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keysync.toml");
    std::fs::write(
        &config,
        format!(
            "[mcm]\nbase_url = \"{}\"\n[state]\nfile = \"{}\"\n[output]\npem_dir = \"{}\"\n",
            standin.base_url(),
            dir.path().join("state.json").display(),
            dir.path().join("keys").display()
        ),
    )
    .unwrap();

    let output = run(&["keysync", "--config", config.to_str().unwrap(), "--once"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(dir.path().join("keys/dfsp1.pem")).unwrap();
    assert_eq!(written, pem, "the CRLF PEM is written with LF");
    assert!(dir.path().join("state.json").exists());
    assert!(
        text(&output.stderr).contains("CRLF"),
        "{}",
        text(&output.stderr)
    );

    standin.stop();
    let output = run(&["keysync", "--config", config.to_str().unwrap(), "--once"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("MCM poll failed"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        dir.path().join("keys/dfsp1.pem").exists(),
        "a failed poll removed a key file"
    );
}

#[test]
fn keysync_rejects_unknown_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keysync.yaml");
    std::fs::write(
        &config,
        "mcm:\n  base_url: http://127.0.0.1:9/api\n  period: 5\n",
    )
    .unwrap();
    let output = run(&["keysync", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("period"),
        "{}",
        text(&output.stderr)
    );
}
