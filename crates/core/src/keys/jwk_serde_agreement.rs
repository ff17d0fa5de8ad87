//! Checks that [`JwkMembers::read`] accepts and reads exactly what serde_json read
//! into the struct it replaced: `Option<String>` for the public members and
//! `Option<IgnoredAny>` for the private ones and `keys`, other members skipped.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::JwkMembers;
use crate::crypto::test_keys::{EC_P256_JWK, RSA2048_JWK};

#[derive(Deserialize)]
struct SerdeJwkMembers {
    kty: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    #[serde(rename = "use")]
    public_key_use: Option<String>,
    alg: Option<String>,
    d: Option<IgnoredAny>,
    p: Option<IgnoredAny>,
    q: Option<IgnoredAny>,
    dp: Option<IgnoredAny>,
    dq: Option<IgnoredAny>,
    qi: Option<IgnoredAny>,
    oth: Option<IgnoredAny>,
    keys: Option<IgnoredAny>,
}

/// The members as a comparable tuple of strings and flags.
type Summary = (Vec<Option<String>>, bool, bool);

fn summary_of_serde(members: SerdeJwkMembers) -> Summary {
    let private = [
        &members.d,
        &members.p,
        &members.q,
        &members.dp,
        &members.dq,
        &members.qi,
        &members.oth,
    ]
    .iter()
    .any(|member| member.is_some());
    let strings = vec![
        members.kty,
        members.n,
        members.e,
        members.crv,
        members.x,
        members.y,
        members.public_key_use,
        members.alg,
    ];
    (strings, private, members.keys.is_some())
}

fn summary_of_reader(members: JwkMembers) -> Summary {
    let strings = vec![
        members.kty,
        members.n,
        members.e,
        members.crv,
        members.x,
        members.y,
        members.public_key_use,
        members.alg,
    ];
    (strings, members.has_private_members, members.is_key_set)
}

fn assert_same(input: &str) {
    let expected = serde_json::from_str::<SerdeJwkMembers>(input).map(summary_of_serde);
    let actual = JwkMembers::read(input).map(summary_of_reader);
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

#[test]
fn edge_cases_agree() {
    let cases = [
        r#"{}"#,
        r#" {"kty":"RSA"} "#,
        "{\"kty\":\"RSA\"}\n",
        r#"{"kty":"RSA"} x"#,
        r#"{"kty":"RSA",}"#,
        r#"{"kty":"R\u0053A","n":"\/"}"#,
        r#"{"kty":"\ud83d\ude00"}"#,
        r#"{"kty":"\ud800"}"#,
        r#"{"kty":"\udc00x"}"#,
        r#"{"z":"\ud800","z":1e400,"z":[[[[{}]]]]}"#,
        r#"{"d":"\ud800"}"#,
        r#"{"d":1e400,"keys":-0}"#,
        r#"{"d":null,"p":null,"keys":null,"kty":null}"#,
        r#"{"kty":"RSA","kty":"RSA"}"#,
        r#"{"d":1,"d":1}"#,
        r#"{"k\u0074y":"EC","kty":"RSA"}"#,
        r#"{"kty":01}"#,
        r#"{"kty":"a	b"}"#,
        r#"{"kty":true}"#,
        r#"{"kty":["RSA"]}"#,
        r#"{"use":{}}"#,
        "\u{feff}{}",
    ];
    for input in cases {
        assert_same(input);
    }
}

#[test]
fn deep_skipped_member_agrees() {
    for depth in [1, 127, 128, 129, 5_000] {
        let input = format!(r#"{{"z":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_same(&input);
        let input = format!(r#"{{"d":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_same(&input);
    }
}

#[test]
fn inserted_members_agree() {
    let names = [
        "kty", "n", "e", "crv", "x", "y", "use", "alg", "d", "qi", "oth", "keys", "kid", "Kty",
    ];
    let values = [
        "null",
        "true",
        "1",
        "-0",
        "1e400",
        "\"sig\"",
        "\"\"",
        "\"\\ud800\"",
        "[]",
        "{}",
        "[[{\"a\":[]}]]",
    ];
    for jwk in [RSA2048_JWK, EC_P256_JWK] {
        let rest = jwk.strip_prefix('{').unwrap_or(jwk);
        for name in names {
            for value in values {
                assert_same(&format!(r#"{{"{name}":{value},{rest}"#));
                let trimmed = jwk.strip_suffix('}').unwrap_or(jwk);
                assert_same(&format!(r#"{trimmed},"{name}":{value}}}"#));
            }
        }
    }
}

#[test]
fn truncated_jwk_agrees() {
    for jwk in [RSA2048_JWK, EC_P256_JWK] {
        for end in 0..jwk.len() {
            assert_same(jwk.get(..end).unwrap_or_default());
        }
    }
}
