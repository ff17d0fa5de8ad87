//! The MCM stand-in against the request/response pairs recorded from a real MCM
//! v3.4.0: every recorded request is replayed in order, and the status, content type
//! and body (with its member order) must match.
//!
//! The recordings are read from `$FSPIOP_SHARED/mcm/captures/jws_endpoints.json`; the
//! test is skipped with a message when the file is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use fspiop_guard_core::json::{self, KeyOrder, Limits, Value};
use mcm_standin::{StandIn, StandInConfig};

fn captures_path() -> Option<PathBuf> {
    let root = std::env::var_os("FSPIOP_SHARED").map(PathBuf::from)?;
    let path = root.join("mcm/captures/jws_endpoints.json");
    path.exists().then_some(path)
}

fn compact(value: &Value) -> String {
    json::stringify(value, KeyOrder::Insertion)
}

#[tokio::test]
async fn standin_matches_recorded_mcm_answers() {
    let Some(path) = captures_path() else {
        eprintln!(
            "SKIPPED: set FSPIOP_SHARED to the folder that holds mcm/captures/jws_endpoints.json to compare the stand-in with recorded MCM answers"
        );
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let captures = json::parse(&text, &Limits::default()).unwrap().value;
    let Some(cases) = captures.as_object() else {
        panic!("{} is not an object of cases", path.display());
    };

    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.create_dfsp("dfsp1");
    let client = fspiop_guard_keysync::client::http_client(
        &fspiop_guard_keysync::config::TlsConfig::default(),
        std::time::Duration::from_secs(10),
    )
    .unwrap();

    let mut compared = 0;
    for (name, case) in cases.iter() {
        let name = name.to_string_lossy();
        let request = case.get("request").unwrap();
        let method = request.get("method").and_then(Value::as_str).unwrap();
        let path = request.get("path").and_then(Value::as_str).unwrap();
        let body = match request.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.to_string_lossy()),
            Some(other) => Some(compact(other)),
        };

        let url = format!("http://{}{path}", standin.address());
        let mut outgoing = client.request(method.parse().unwrap(), url);
        if let Some(body) = body {
            outgoing = outgoing
                .header("content-type", "application/json")
                .body(body);
        }
        let response = outgoing.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let received = response.text().await.unwrap();

        let expected_status = case.get("status").and_then(Value::as_f64).unwrap() as u16;
        assert_eq!(status, expected_status, "{name}: status; body {received}");
        let expected_type = case.get("content_type").and_then(Value::as_str).unwrap();
        let expected_type = expected_type.as_str();
        assert_eq!(content_type, expected_type, "{name}: content type");

        let expected = case.get("response").unwrap();
        if matches!(expected, Value::Null) {
            assert_eq!(received, "", "{name}: body");
        } else {
            let parsed = json::parse(&received, &Limits::default())
                .unwrap_or_else(|e| panic!("{name}: answer is not JSON ({e:?}): {received}"))
                .value;
            assert_eq!(compact(&parsed), compact(expected), "{name}: body");
        }
        if expected_status == 200 && !matches!(expected, Value::Null) {
            assert!(
                received.contains("\n  "),
                "{name}: a success body is pretty-printed with two spaces"
            );
        }
        compared += 1;
    }
    assert_eq!(compared, cases.len());
    eprintln!("compared {compared} recorded MCM exchanges");
}
