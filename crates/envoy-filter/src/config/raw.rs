//! The plugin configuration as written, read into plain values before
//! [`super::FilterConfig::from_json`] validates them.

use fspiop_guard_core::RequestRules;
use fspiop_guard_core::json::number_to_string;
use fspiop_guard_core::json::read::{Fields, Node, ReadError, Unknown};
use fspiop_guard_core::keyset::{self, KeySetEntry};
use fspiop_guard_core::sorted_map::SortedMap;

use super::{ConfigError, Flow, NoKeysMode, SignaturePath};

/// The configuration as written, read but not yet validated.
///
/// Integers are kept as doubles until their range is checked, so a message can show
/// a value beyond the range of `u64`.
#[derive(Debug, Default)]
pub(super) struct RawConfig {
    pub(super) profile: Option<String>,
    pub(super) flow: Flow,
    pub(super) keys: SortedMap<String, Vec<KeySetEntry>>,
    pub(super) key_source: Option<RawKeySource>,
    pub(super) request_rules: Option<RequestRules>,
    pub(super) max_body_bytes: Option<f64>,
    pub(super) reject_status: Option<f64>,
    pub(super) no_keys: RawNoKeys,
    pub(super) headers: RawHeaderNames,
    pub(super) signature_path: SignaturePath,
    pub(super) hold_timeout_ms: Option<f64>,
    pub(super) mtls: Option<RawMtls>,
    pub(super) jwt: Option<RawJwt>,
}

/// The `mtls` section as written. Read by every build, so a build without the `mtls`
/// feature can refuse it by name instead of as an unknown field.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "mtls"), allow(dead_code))]
pub(super) struct RawMtls {
    pub(super) certificate_source: Option<String>,
    pub(super) xfcc_trusted_by: Option<String>,
    pub(super) trust_anchors: Option<String>,
    pub(super) usage: Option<String>,
    pub(super) policy: Option<String>,
    pub(super) min_rsa_bits: Option<f64>,
    pub(super) identities: Option<Vec<(String, Vec<String>)>>,
    pub(super) reject_status: Option<f64>,
}

/// The `jwt` section as written.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "jwt"), allow(dead_code))]
pub(super) struct RawJwt {
    pub(super) participant: Option<String>,
    pub(super) algorithms: Option<Vec<String>>,
    pub(super) issuers: Option<Vec<String>>,
    pub(super) audiences: Option<Vec<String>>,
    pub(super) leeway_seconds: Option<f64>,
    pub(super) require_exp: Option<bool>,
    pub(super) reject_status: Option<f64>,
}

#[derive(Debug, Default)]
pub(super) struct RawKeySource {
    pub(super) cluster: String,
    pub(super) authority: Option<String>,
    pub(super) path: Option<String>,
    pub(super) refresh_period_ms: Option<f64>,
    pub(super) retry_period_ms: Option<f64>,
    pub(super) timeout_ms: Option<f64>,
    pub(super) max_bytes: Option<f64>,
    pub(super) refresh_on_miss: RawRefreshOnMiss,
}

#[derive(Debug, Default)]
pub(super) struct RawRefreshOnMiss {
    pub(super) enabled: Option<bool>,
    pub(super) min_interval_ms: Option<f64>,
    pub(super) global_min_interval_ms: Option<f64>,
}

#[derive(Debug, Default)]
pub(super) struct RawNoKeys {
    pub(super) mode: NoKeysMode,
    pub(super) status: Option<f64>,
}

#[derive(Debug, Default)]
pub(super) struct RawHeaderNames {
    pub(super) verified: Option<String>,
}

// Each object is read as serde reads a struct whose fields all have defaults: a
// missing field takes its default, `null` counts as missing only where the value is
// optional, and an unknown or repeated field is an error.

impl RawConfig {
    pub(super) fn read(node: Node<'_>) -> Result<RawConfig, ConfigError> {
        let fields = node.fields(
            &[
                "profile",
                "flow",
                "keys",
                "key_source",
                "request_rules",
                "max_body_bytes",
                "reject_status",
                "no_keys",
                "headers",
                "signature_path",
                "hold_timeout_ms",
                "mtls",
                "jwt",
            ],
            Unknown::Reject,
        )?;
        Ok(RawConfig {
            profile: optional_string(&fields, "profile")?,
            flow: variant(
                &fields,
                "flow",
                &[
                    ("stream", Flow::Stream),
                    ("hold-headers", Flow::HoldHeaders),
                ],
            )?,
            keys: match fields.get("keys") {
                Some(node) => keyset::read_participants(node)?,
                None => SortedMap::new(),
            },
            key_source: fields
                .optional("key_source")
                .map(RawKeySource::read)
                .transpose()?,
            request_rules: fields
                .optional("request_rules")
                .map(read_request_rules)
                .transpose()?,
            max_body_bytes: integer(&fields, "max_body_bytes")?,
            reject_status: integer(&fields, "reject_status")?,
            no_keys: fields
                .get("no_keys")
                .map(RawNoKeys::read)
                .transpose()?
                .unwrap_or_default(),
            headers: fields
                .get("headers")
                .map(RawHeaderNames::read)
                .transpose()?
                .unwrap_or_default(),
            signature_path: variant(
                &fields,
                "signature_path",
                &[
                    ("auto", SignaturePath::Auto),
                    ("foreign-function", SignaturePath::ForeignFunction),
                    ("in-wasm", SignaturePath::InWasm),
                ],
            )?,
            hold_timeout_ms: integer(&fields, "hold_timeout_ms")?,
            mtls: fields.optional("mtls").map(RawMtls::read).transpose()?,
            jwt: fields.optional("jwt").map(RawJwt::read).transpose()?,
        })
    }
}

impl RawMtls {
    /// Notes only that the section is there, in a build without the `mtls` feature.
    #[cfg(not(feature = "mtls"))]
    fn read(_: Node<'_>) -> Result<RawMtls, ConfigError> {
        Ok(RawMtls::default())
    }

    #[cfg(feature = "mtls")]
    fn read(node: Node<'_>) -> Result<RawMtls, ConfigError> {
        let fields = node.fields(
            &[
                "certificate_source",
                "xfcc_trusted_by",
                "trust_anchors",
                "usage",
                "policy",
                "min_rsa_bits",
                "identities",
                "reject_status",
            ],
            Unknown::Reject,
        )?;
        let identities = match fields.optional("identities") {
            Some(node) => {
                let mut participants = Vec::new();
                for (participant, list) in node.entries()? {
                    participants.push((participant, strings(list)?));
                }
                Some(participants)
            }
            None => None,
        };
        Ok(RawMtls {
            certificate_source: optional_string(&fields, "certificate_source")?,
            xfcc_trusted_by: optional_string(&fields, "xfcc_trusted_by")?,
            trust_anchors: optional_string(&fields, "trust_anchors")?,
            usage: optional_string(&fields, "usage")?,
            policy: optional_string(&fields, "policy")?,
            min_rsa_bits: integer(&fields, "min_rsa_bits")?,
            identities,
            reject_status: integer(&fields, "reject_status")?,
        })
    }
}

impl RawJwt {
    /// Notes only that the section is there, in a build without the `jwt` feature.
    #[cfg(not(feature = "jwt"))]
    fn read(_: Node<'_>) -> Result<RawJwt, ConfigError> {
        Ok(RawJwt::default())
    }

    #[cfg(feature = "jwt")]
    fn read(node: Node<'_>) -> Result<RawJwt, ConfigError> {
        let fields = node.fields(
            &[
                "participant",
                "algorithms",
                "issuers",
                "audiences",
                "leeway_seconds",
                "require_exp",
                "reject_status",
            ],
            Unknown::Reject,
        )?;
        let list = |name: &str| fields.optional(name).map(strings).transpose();
        Ok(RawJwt {
            participant: optional_string(&fields, "participant")?,
            algorithms: list("algorithms")?,
            issuers: list("issuers")?,
            audiences: list("audiences")?,
            leeway_seconds: integer(&fields, "leeway_seconds")?,
            require_exp: fields
                .optional("require_exp")
                .map(|node| node.boolean())
                .transpose()?,
            reject_status: integer(&fields, "reject_status")?,
        })
    }
}

fn strings(node: Node<'_>) -> Result<Vec<String>, ReadError> {
    node.elements()?.map(|element| element.string()).collect()
}

impl RawKeySource {
    fn read(node: Node<'_>) -> Result<RawKeySource, ConfigError> {
        let fields = node.fields(
            &[
                "cluster",
                "authority",
                "path",
                "refresh_period_ms",
                "retry_period_ms",
                "timeout_ms",
                "max_bytes",
                "refresh_on_miss",
            ],
            Unknown::Reject,
        )?;
        Ok(RawKeySource {
            cluster: fields
                .get("cluster")
                .map(|node| node.string())
                .transpose()?
                .unwrap_or_default(),
            authority: optional_string(&fields, "authority")?,
            path: optional_string(&fields, "path")?,
            refresh_period_ms: integer(&fields, "refresh_period_ms")?,
            retry_period_ms: integer(&fields, "retry_period_ms")?,
            timeout_ms: integer(&fields, "timeout_ms")?,
            max_bytes: integer(&fields, "max_bytes")?,
            refresh_on_miss: fields
                .get("refresh_on_miss")
                .map(RawRefreshOnMiss::read)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

impl RawRefreshOnMiss {
    fn read(node: Node<'_>) -> Result<RawRefreshOnMiss, ConfigError> {
        let fields = node.fields(
            &["enabled", "min_interval_ms", "global_min_interval_ms"],
            Unknown::Reject,
        )?;
        Ok(RawRefreshOnMiss {
            enabled: fields
                .optional("enabled")
                .map(|node| node.boolean())
                .transpose()?,
            min_interval_ms: integer(&fields, "min_interval_ms")?,
            global_min_interval_ms: integer(&fields, "global_min_interval_ms")?,
        })
    }
}

impl RawNoKeys {
    fn read(node: Node<'_>) -> Result<RawNoKeys, ConfigError> {
        let fields = node.fields(&["mode", "status"], Unknown::Reject)?;
        Ok(RawNoKeys {
            mode: variant(
                &fields,
                "mode",
                &[
                    ("fail-closed", NoKeysMode::FailClosed),
                    ("fail-open", NoKeysMode::FailOpen),
                ],
            )?,
            status: integer(&fields, "status")?,
        })
    }
}

impl RawHeaderNames {
    fn read(node: Node<'_>) -> Result<RawHeaderNames, ConfigError> {
        let fields = node.fields(&["verified"], Unknown::Reject)?;
        Ok(RawHeaderNames {
            verified: optional_string(&fields, "verified")?,
        })
    }
}

/// Reads `request_rules`, whose missing fields take the values of
/// [`RequestRules::default`].
fn read_request_rules(node: Node<'_>) -> Result<RequestRules, ConfigError> {
    let fields = node.fields(
        &["methods", "put_parties", "path_prefix", "exempt_paths"],
        Unknown::Reject,
    )?;
    let defaults = RequestRules::default();
    Ok(RequestRules {
        methods: match fields.get("methods") {
            Some(node) => strings(node)?,
            None => defaults.methods,
        },
        put_parties: match fields.get("put_parties") {
            Some(node) => node.boolean()?,
            None => defaults.put_parties,
        },
        path_prefix: match fields.get("path_prefix") {
            Some(node) => node.string()?,
            None => defaults.path_prefix,
        },
        exempt_paths: match fields.get("exempt_paths") {
            Some(node) => strings(node)?,
            None => defaults.exempt_paths,
        },
    })
}

fn optional_string(fields: &Fields<'_>, name: &str) -> Result<Option<String>, ReadError> {
    fields.optional(name).map(|node| node.string()).transpose()
}

/// Reads an enum written as the name of one of `variants`, or its default when the
/// field is missing.
fn variant<T: Copy + Default>(
    fields: &Fields<'_>,
    name: &str,
    variants: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(node) = fields.get(name) else {
        return Ok(T::default());
    };
    let text = node.string()?;
    if let Some((_, value)) = variants.iter().find(|(spelling, _)| *spelling == text) {
        return Ok(*value);
    }
    let expected: Vec<&str> = variants.iter().map(|(spelling, _)| *spelling).collect();
    Err(node
        .error(format!(
            "unknown variant `{text}`, expected one of `{}`",
            expected.join("`, `")
        ))
        .into())
}

/// Reads an optional non-negative integer, also when written as an integral float,
/// and returns it as a double for [`in_range`].
///
/// Istio passes `pluginConfig` through a protobuf `Struct`, where every number is a
/// double, so `1048576` may arrive as `1048576.0` or `1.048576e6`.
fn integer(fields: &Fields<'_>, name: &str) -> Result<Option<f64>, ConfigError> {
    let Some(node) = fields.optional(name) else {
        return Ok(None);
    };
    let number = node.number()?;
    // An infinite number has a NaN fraction, so it fails the test too.
    if number >= 0.0 && number.fract() == 0.0 {
        Ok(Some(number))
    } else {
        Err(node
            .error(format!(
                "{} is not a non-negative integer",
                number_to_string(number)
            ))
            .into())
    }
}
