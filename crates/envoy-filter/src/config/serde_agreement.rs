//! Checks that [`FilterConfig::from_json`] accepts and builds what the serde
//! derives it replaced accepted and built: the same structs with
//! `#[serde(default, deny_unknown_fields)]`, integers read by a function that also
//! took integral floats, and the same validation afterwards.
//!
//! Two differences are deliberate, because the documented format never had these
//! forms. serde also read a struct written as a JSON array of its field values, and
//! an enum written as an object with the variant as its only key and `null` as its
//! value. The reader rejects both. And serde kept the last list of a participant
//! listed twice in `keys`, where the reader rejects the configuration.

use std::collections::BTreeMap;

use fspiop_guard_core::RequestRules;
use fspiop_guard_core::keyset::KeySetEntry;
use serde::{Deserialize, Deserializer};

use super::raw::{RawConfig, RawHeaderNames, RawKeySource, RawNoKeys, RawRefreshOnMiss};
use super::{FilterConfig, Flow, NoKeysMode, SignaturePath};

#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SerdeFlow {
    #[default]
    Stream,
    HoldHeaders,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SerdeSignaturePath {
    #[default]
    Auto,
    ForeignFunction,
    InWasm,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SerdeNoKeysMode {
    #[default]
    FailClosed,
    FailOpen,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SerdeConfig {
    profile: Option<String>,
    flow: SerdeFlow,
    keys: BTreeMap<String, Vec<SerdeEntry>>,
    key_source: Option<SerdeKeySource>,
    request_rules: Option<RequestRules>,
    #[serde(deserialize_with = "integer")]
    max_body_bytes: Option<u64>,
    #[serde(deserialize_with = "integer")]
    reject_status: Option<u64>,
    no_keys: SerdeNoKeys,
    headers: SerdeHeaderNames,
    signature_path: SerdeSignaturePath,
    #[serde(deserialize_with = "integer")]
    hold_timeout_ms: Option<u64>,
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

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SerdeKeySource {
    cluster: String,
    authority: Option<String>,
    path: Option<String>,
    #[serde(deserialize_with = "integer")]
    refresh_period_ms: Option<u64>,
    #[serde(deserialize_with = "integer")]
    retry_period_ms: Option<u64>,
    #[serde(deserialize_with = "integer")]
    timeout_ms: Option<u64>,
    #[serde(deserialize_with = "integer")]
    max_bytes: Option<u64>,
    refresh_on_miss: SerdeRefreshOnMiss,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SerdeRefreshOnMiss {
    enabled: Option<bool>,
    #[serde(deserialize_with = "integer")]
    min_interval_ms: Option<u64>,
    #[serde(deserialize_with = "integer")]
    global_min_interval_ms: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SerdeNoKeys {
    mode: SerdeNoKeysMode,
    #[serde(deserialize_with = "integer")]
    status: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SerdeHeaderNames {
    verified: Option<String>,
}

fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(integer) = number.as_u64() {
        return Ok(Some(integer));
    }
    match number.as_f64() {
        Some(float) if float >= 0.0 && float.fract() == 0.0 && float <= 9.0e15 => {
            Ok(Some(float as u64))
        }
        _ => Err(serde::de::Error::custom("not a non-negative integer")),
    }
}

fn double(value: Option<u64>) -> Option<f64> {
    value.map(|value| value as f64)
}

impl From<SerdeConfig> for RawConfig {
    fn from(config: SerdeConfig) -> RawConfig {
        let entry = |entry: SerdeEntry| KeySetEntry {
            pem: entry.pem,
            kid: entry.kid,
            retire_after: entry.retire_after,
        };
        RawConfig {
            profile: config.profile,
            flow: match config.flow {
                SerdeFlow::Stream => Flow::Stream,
                SerdeFlow::HoldHeaders => Flow::HoldHeaders,
            },
            keys: config
                .keys
                .into_iter()
                .map(|(id, entries)| (id, entries.into_iter().map(entry).collect()))
                .collect(),
            key_source: config.key_source.map(|source| RawKeySource {
                cluster: source.cluster,
                authority: source.authority,
                path: source.path,
                refresh_period_ms: double(source.refresh_period_ms),
                retry_period_ms: double(source.retry_period_ms),
                timeout_ms: double(source.timeout_ms),
                max_bytes: double(source.max_bytes),
                refresh_on_miss: RawRefreshOnMiss {
                    enabled: source.refresh_on_miss.enabled,
                    min_interval_ms: double(source.refresh_on_miss.min_interval_ms),
                    global_min_interval_ms: double(source.refresh_on_miss.global_min_interval_ms),
                },
            }),
            request_rules: config.request_rules,
            max_body_bytes: double(config.max_body_bytes),
            reject_status: double(config.reject_status),
            no_keys: RawNoKeys {
                mode: match config.no_keys.mode {
                    SerdeNoKeysMode::FailClosed => NoKeysMode::FailClosed,
                    SerdeNoKeysMode::FailOpen => NoKeysMode::FailOpen,
                },
                status: double(config.no_keys.status),
            },
            headers: RawHeaderNames {
                verified: config.headers.verified,
            },
            signature_path: match config.signature_path {
                SerdeSignaturePath::Auto => SignaturePath::Auto,
                SerdeSignaturePath::ForeignFunction => SignaturePath::ForeignFunction,
                SerdeSignaturePath::InWasm => SignaturePath::InWasm,
            },
            hold_timeout_ms: double(config.hold_timeout_ms),
            // The caller-check sections came after the serde model; tests of their own
            // cover them.
            mtls: None,
            jwt: None,
        }
    }
}

/// Returns the configuration the serde derives built from `text`, or their error.
fn serde_outcome(text: &str) -> Result<FilterConfig, String> {
    let text = if text.bytes().all(|b| b.is_ascii_whitespace()) {
        "{}"
    } else {
        text
    };
    let config: SerdeConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
    FilterConfig::validate(RawConfig::from(config)).map_err(|e| e.to_string())
}

fn assert_same(text: &str) {
    let expected = serde_outcome(text);
    let actual = FilterConfig::from_json(text.as_bytes());
    match (expected, actual) {
        (Ok(expected), Ok(actual)) => {
            assert_eq!(format!("{actual:?}"), format!("{expected:?}"), "{text}");
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => panic!("{text}: serde accepts it, the reader rejects it: {error}"),
        (Err(error), Ok(_)) => panic!("{text}: serde rejects it ({error}), the reader accepts it"),
    }
}

const PEM: &str = "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\\n-----END PUBLIC KEY-----\\n";

/// Returns a valid configuration that sets every field.
fn full_config() -> String {
    format!(
        r#"{{"profile":"strict","flow":"hold-headers","keys":{{"payerfsp":[{{"pem":"{PEM}","retire_after":"2036-01-01T00:00:00Z"}}]}},"key_source":{{"cluster":"keysync","authority":"keys.local","path":"/v1/keyset","refresh_period_ms":30000,"retry_period_ms":2e3,"timeout_ms":1000.0,"max_bytes":65536,"refresh_on_miss":{{"enabled":false,"min_interval_ms":500}}}},"request_rules":{{"methods":["POST","PUT"],"put_parties":true,"path_prefix":"/fspiop","exempt_paths":["/health"]}},"max_body_bytes":2048,"reject_status":401,"no_keys":{{"mode":"fail-open","status":599}},"headers":{{"verified":"X-Verified"}},"signature_path":"in-wasm","hold_timeout_ms":100}}"#
    )
}

const VALUES: [&str; 18] = [
    "null",
    "true",
    "0",
    "-0",
    "1",
    "1.5",
    "-1",
    "401",
    "1e400",
    "\"stream\"",
    "\"fail-open\"",
    "\"x\"",
    "\"\\ud800\"",
    "[]",
    "[\"GET\"]",
    "{}",
    "{\"cluster\":\"k\"}",
    "{\"payerfsp\":[]}",
];

/// The start of each object in [`full_config`], where a member can be inserted.
const OPENINGS: [&str; 8] = [
    "{\"profile\"",
    "{\"payerfsp\"",
    "{\"pem\"",
    "{\"cluster\"",
    "{\"enabled\"",
    "{\"methods\"",
    "{\"mode\"",
    "{\"verified\"",
];

#[test]
fn full_config_agrees() {
    assert!(FilterConfig::from_json(full_config().as_bytes()).is_ok());
    assert_same(&full_config());
}

#[test]
fn edge_cases_agree() {
    let cases = [
        "",
        " \n\t",
        "null",
        "{}",
        "{} x",
        "\u{feff}{}",
        r#"{"key_source":{"cluster":"k"}}"#,
        r#"{"key_source":{"cluster":"k"},"key_source":{"cluster":"k"}}"#,
        r#"{"key_source":null,"keys":{"a":[]}}"#,
        r#"{"key_source":{"cluster":"k","refresh_on_miss":null}}"#,
        r#"{"key_source":{"cluster":"k"},"request_rules":null}"#,
        r#"{"key_source":{"cluster":"k"},"request_rules":{"methods":["GET"],"methods":[]}}"#,
        r#"{"key_source":{"cluster":"k"},"max_body_bytes":1.048576e6}"#,
        r#"{"key_source":{"cluster":"k"},"max_body_bytes":10000000000000000}"#,
        r#"{"key_source":{"cluster":"k"},"max_body_bytes":18446744073709551616}"#,
        r#"{"key_source":{"cluster":"k"},"max_body_bytes":1e300}"#,
        r#"{"key_source":{"cluster":"k"},"reject_status":4.01e2}"#,
        r#"{"key_source":{"cluster":"k"},"hold_timeout_ms":"100"}"#,
        r#"{"key_source":{"cluster":"k","cluster":"k"}}"#,
        r#"{"key_source":{"cluster":null}}"#,
        r#"{"key_source":{"cluster":""}}"#,
        r#"{"keys":{"a":[{"pem":"x","bad":1}],"a":[]}}"#,
        r#"{"keys":{"\ud800":[]}}"#,
    ];
    for text in cases {
        assert_same(text);
    }
}

#[test]
fn inserted_members_agree() {
    let config = full_config();
    let names = [
        "profile",
        "flow",
        "keys",
        "pem",
        "kid",
        "cluster",
        "timeout_ms",
        "enabled",
        "min_interval_ms",
        "methods",
        "put_parties",
        "mode",
        "status",
        "verified",
        "unknown",
    ];
    for opening in OPENINGS {
        for name in names {
            for value in VALUES {
                let inserted = format!("{{\"{name}\":{value},{}", &opening[1..]);
                assert_same(&config.replacen(opening, &inserted, 1));
            }
        }
    }
}

#[test]
fn replaced_values_agree() {
    let config = full_config();
    let targets = [
        "\"strict\"",
        "\"hold-headers\"",
        "\"keysync\"",
        "\"/v1/keyset\"",
        "30000",
        "2e3",
        "1000.0",
        "65536",
        "false",
        "500",
        "[\"POST\",\"PUT\"]",
        "\"POST\"",
        "true",
        "\"/fspiop\"",
        "[\"/health\"]",
        "2048",
        "401",
        "\"fail-open\"",
        "599",
        "\"X-Verified\"",
        "\"in-wasm\"",
        ":100}",
        "{\"enabled\":false,\"min_interval_ms\":500}",
        "{\"mode\":\"fail-open\",\"status\":599}",
        "{\"verified\":\"X-Verified\"}",
        "{\"methods\":[\"POST\",\"PUT\"],\"put_parties\":true,\"path_prefix\":\"/fspiop\",\"exempt_paths\":[\"/health\"]}",
    ];
    for target in targets {
        for value in VALUES {
            // serde read a struct from an array; see the module documentation.
            if target.starts_with('{') && value.starts_with('[') {
                continue;
            }
            let replacement = match target.strip_prefix(':') {
                Some(_) => format!(":{value}}}"),
                None => value.to_owned(),
            };
            assert_same(&config.replacen(target, &replacement, 1));
        }
    }
}

#[test]
fn truncated_config_agrees() {
    let config = full_config();
    for end in 0..config.len() {
        assert_same(config.get(..end).unwrap_or_default());
    }
}

#[test]
fn struct_as_array_and_enum_as_object_rejected() {
    let array = r#"{"key_source":["keysync"]}"#;
    assert!(serde_outcome(array).is_ok());
    let error = FilterConfig::from_json(array.as_bytes()).unwrap_err();
    assert_eq!(error.field, "key_source");

    let object = r#"{"key_source":{"cluster":"k"},"flow":{"hold-headers":null}}"#;
    assert!(serde_outcome(object).is_ok());
    let error = FilterConfig::from_json(object.as_bytes()).unwrap_err();
    assert_eq!(error.field, "flow");
}
