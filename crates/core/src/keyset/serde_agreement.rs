//! Checks that [`KeySetDocument::from_json`] accepts and reads what serde_json read
//! into the derived `Deserialize` with `deny_unknown_fields` that it replaced.
//!
//! Two differences are deliberate. serde also read a struct written as a JSON array of
//! its field values in declaration order; the reader rejects that form, which the
//! documented format never had. serde kept the last list of a participant listed
//! twice; the reader rejects the document.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{KeySetDocument, KeySetEntry};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SerdeDocument {
    format: String,
    version: String,
    #[serde(default)]
    generated_at: Option<String>,
    participants: BTreeMap<String, Vec<SerdeEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SerdeEntry {
    pem: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    retire_after: Option<String>,
}

type EntrySummary = (String, Option<String>, Option<String>);
type Summary = (
    String,
    String,
    Option<String>,
    BTreeMap<String, Vec<EntrySummary>>,
);

fn summary_of_serde(document: SerdeDocument) -> Summary {
    let participants = document
        .participants
        .into_iter()
        .map(|(id, entries)| {
            let entries = entries
                .into_iter()
                .map(|entry| (entry.pem, entry.kid, entry.retire_after))
                .collect();
            (id, entries)
        })
        .collect();
    (
        document.format,
        document.version,
        document.generated_at,
        participants,
    )
}

fn summary_of_reader(document: KeySetDocument) -> Summary {
    let summary = |entry: KeySetEntry| (entry.pem, entry.kid, entry.retire_after);
    let participants = document
        .participants
        .into_iter()
        .map(|(id, entries)| (id, entries.into_iter().map(summary).collect()))
        .collect();
    (
        document.format,
        document.version,
        document.generated_at,
        participants,
    )
}

fn assert_same(input: &str) {
    let expected = serde_json::from_str::<SerdeDocument>(input).map(summary_of_serde);
    let actual = KeySetDocument::from_json(input.as_bytes()).map(summary_of_reader);
    match (expected, actual) {
        (Ok(expected), Ok(actual)) => assert_eq!(actual, expected, "{input}"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => {
            panic!("{input}: serde_json accepts it, the reader rejects it: {error}")
        }
        (Err(error), Ok(_)) => {
            panic!("{input}: serde_json rejects it ({error}), the reader accepts it")
        }
    }
}

const DOCUMENT: &str = r#"{"format":"fspiop-guard-keyset/1","version":"7","generated_at":"2026-12-04T21:00:00Z","participants":{"payerfsp":[{"pem":"A","retire_after":"2026-12-11T00:00:00Z"},{"pem":"B","kid":"k"}],"payeefsp":[]}}"#;

const VALUES: [&str; 10] = [
    "null",
    "true",
    "1",
    "1e400",
    "\"s\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "[{\"pem\":\"C\"}]",
    "{\"pem\":\"C\"}",
];

#[test]
fn edge_cases_agree() {
    let cases = [
        DOCUMENT.to_owned(),
        format!(" \n{DOCUMENT}\t"),
        format!("{DOCUMENT}x"),
        format!("\u{feff}{DOCUMENT}"),
        r#"{"format":"f","version":"v","participants":{}}"#.to_owned(),
        r#"{"format":"f","version":"v"}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{},"format":"f"}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"a":[{"x":"1"}],"a":[]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"\ud800":[]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"\ud83d\ude00":[]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"a":[{"pem":"1","pem":"2"}]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"a":[{"pem":"1","kid":null}]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"a":[{"pem":null}]}}"#.to_owned(),
        r#"{"format":"f","version":"v","participants":{"a":[{"kid":"k"}]}}"#.to_owned(),
        r#"{"format":"f","version":"v","generated_at":null,"participants":{}}"#.to_owned(),
        r#"{"f\u006frmat":"f","version":"v","participants":{}}"#.to_owned(),
    ];
    for input in &cases {
        assert_same(input);
    }
}

#[test]
fn participant_listed_twice_is_rejected() {
    let input = r#"{"format":"f","version":"v","participants":{"a":[{"pem":"1"}],"a":[]}}"#;
    let error = KeySetDocument::from_json(input.as_bytes()).unwrap_err();
    assert!(error.contains("listed twice"), "{error}");
}

#[test]
fn inserted_members_agree() {
    let names = [
        "format",
        "version",
        "generated_at",
        "participants",
        "Format",
        "pem",
    ];
    let rest = DOCUMENT.strip_prefix('{').unwrap_or(DOCUMENT);
    for name in names {
        for value in VALUES {
            assert_same(&format!(r#"{{"{name}":{value},{rest}"#));
        }
    }
}

#[test]
fn replaced_values_agree() {
    let targets = [
        r#""fspiop-guard-keyset/1""#,
        r#""7""#,
        r#""2026-12-04T21:00:00Z""#,
        r#""A""#,
        r#""k""#,
        r#""2026-12-11T00:00:00Z""#,
        r#"[{"pem":"A","retire_after":"2026-12-11T00:00:00Z"},{"pem":"B","kid":"k"}]"#,
        r#"{"pem":"B","kid":"k"}"#,
        "[]",
    ];
    for target in targets {
        for value in VALUES {
            assert_same(&DOCUMENT.replacen(target, value, 1));
        }
    }
}

#[test]
fn inserted_entry_members_agree() {
    for name in ["pem", "kid", "retire_after", "retire", "PEM"] {
        for value in VALUES {
            let member = format!(r#""{name}":{value},"#);
            assert_same(&DOCUMENT.replacen(r#"{"pem":"B""#, &format!(r#"{{{member}"pem":"B""#), 1));
        }
    }
}

#[test]
fn truncated_document_agrees() {
    for end in 0..DOCUMENT.len() {
        assert_same(DOCUMENT.get(..end).unwrap_or_default());
    }
}

#[test]
fn struct_as_array_rejected() {
    let input = r#"["fspiop-guard-keyset/1","7",null,{"payerfsp":[["A"]]}]"#;
    assert!(serde_json::from_str::<SerdeDocument>(input).is_ok());
    let error = KeySetDocument::from_json(input.as_bytes()).unwrap_err();
    assert_eq!(error, "expected an object, found an array");
}
