//! Checks `derive_fspiop_uri` against URLs that the reference signer was run on.
//!
//! The table lives in the directory named by `FSPIOP_SHARED`, at
//! `conformance/jws/signer_uri_table.json`. Each row has a `uri` and either the
//! `fspiop_uri` the signer set or the `error` it threw. The test is skipped with a message
//! when the variable is unset or the file is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use fspiop_guard_core::uri::derive_fspiop_uri;
use serde_json::Value;

const TABLE_PATH: &str = "conformance/jws/signer_uri_table.json";

fn table_path() -> Option<PathBuf> {
    let Some(root) = std::env::var_os("FSPIOP_SHARED") else {
        eprintln!(
            "skipped: FSPIOP_SHARED is not set; set it to the directory that contains {TABLE_PATH}"
        );
        return None;
    };
    let path = PathBuf::from(root).join(TABLE_PATH);
    if !path.is_file() {
        eprintln!("skipped: {} not found; check FSPIOP_SHARED", path.display());
        return None;
    }
    Some(path)
}

#[test]
fn derivation_matches_reference_signer_table() {
    let Some(path) = table_path() else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!rows.is_empty(), "{} has no rows", path.display());

    for row in &rows {
        let url = row["uri"].as_str().expect("every row has a string `uri`");
        let derived = derive_fspiop_uri(url);

        if let Some(expected) = row.get("fspiop_uri").and_then(Value::as_str) {
            assert_eq!(derived.as_deref(), Ok(expected), "uri {url:?}");
        } else if let Some(expected) = row.get("error").and_then(Value::as_str) {
            let error = derived.expect_err(url);
            assert_eq!(
                error.reference_message().as_deref(),
                Some(expected),
                "uri {url:?}"
            );
        } else {
            panic!("row for {url:?} has neither `fspiop_uri` nor `error`");
        }
    }
}
