//! Checks the deployment files under `envoy/` at the repository root.
//!
//! Every plugin configuration in them must pass [`FilterConfig::from_json`] in the form
//! the proxy hands it to the filter. For an Envoy Wasm filter that is the
//! `configuration.value` string as written. For an Istio `WasmPlugin` it is the
//! `pluginConfig` converted to JSON the way Istio converts it.
//!
//! The tests also assert the Envoy and Istio settings the filter's guarantees rest on:
//! client certificates, XFCC sanitising, fail-closed policies, buffer limits and where
//! the filter runs. No Envoy runs here, so these are static checks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

use fspiop_guard_envoy_filter::config::{FilterConfig, Flow};
use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Number, Value};

const WASM_FILTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";
const CONNECTION_MANAGER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const DOWNSTREAM_TLS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

/// Deployment files that must exist, relative to `envoy/`.
const EXPECTED_FILES: [&str; 5] = [
    "envoy.yaml",
    "envoy-hold-headers.yaml",
    "istio/wasmplugin.yaml",
    "istio/gateway.yaml",
    "istio/envoyfilter-hold-headers.yaml",
];

/// Files that must hold at least one plugin configuration, relative to `envoy/`.
const FILES_WITH_PLUGIN_CONFIG: [&str; 4] = [
    "envoy.yaml",
    "envoy-hold-headers.yaml",
    "istio/wasmplugin.yaml",
    "istio/envoyfilter-hold-headers.yaml",
];

// ---------------------------------------------------------------------------------------
// Loading the YAML documents

/// One YAML document of a deployment file, converted to JSON with integers kept exact.
struct Document {
    /// Path relative to `envoy/`.
    file: String,
    /// Position of the document in its file, from 1.
    number: usize,
    value: Value,
}

impl Document {
    fn name(&self) -> String {
        format!("envoy/{} document {}", self.file, self.number)
    }

    fn kind(&self) -> Option<&str> {
        self.value["kind"].as_str()
    }

    /// Returns true for a static Envoy bootstrap, false for a Kubernetes resource.
    fn is_bootstrap(&self) -> bool {
        self.value.get("static_resources").is_some()
    }
}

fn envoy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../envoy")
        .canonicalize()
        .expect("envoy/ at the repository root")
}

/// Lists the `.yaml` and `.yml` files under `envoy/`, sorted, as paths relative to it.
fn yaml_files() -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                let relative = path.strip_prefix(root).unwrap();
                out.push(relative.to_str().unwrap().replace('\\', "/"));
            }
        }
    }

    let root = envoy_dir();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    files
}

fn load_documents() -> Vec<Document> {
    let root = envoy_dir();
    let mut documents = Vec::new();
    for file in yaml_files() {
        let text = fs::read_to_string(root.join(&file)).unwrap();
        let parsed = Yaml::load_from_str(&text)
            .unwrap_or_else(|e| panic!("envoy/{file} is not valid YAML: {e}"));
        for (index, node) in parsed.iter().enumerate() {
            let number = index + 1;
            let value = yaml_to_json(node, &format!("envoy/{file} document {number}"));
            documents.push(Document {
                file: file.clone(),
                number,
                value,
            });
        }
    }
    documents
}

/// Converts a YAML node to JSON, keeping integers as integers.
fn yaml_to_json(node: &Yaml, at: &str) -> Value {
    match node {
        Yaml::Value(scalar) => scalar_to_json(scalar, at),
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &format!("{at}[{i}]")))
                .collect(),
        ),
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let Some(key) = key.as_str() else {
                    panic!("{at}: mapping key {key:?} is not a string");
                };
                let value = yaml_to_json(value, &format!("{at}.{key}"));
                object.insert(key.to_owned(), value);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tag, _) => panic!("{at}: tag {tag:?} has no JSON form, so remove it"),
        Yaml::Alias(_) => panic!("{at}: anchors and aliases are not used in deployment files"),
        Yaml::Representation(..) | Yaml::BadValue => panic!("{at}: scalar has no valid value"),
    }
}

fn scalar_to_json(scalar: &Scalar, at: &str) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number(Number::from(*i)),
        Scalar::FloatingPoint(f) => Value::Number(
            Number::from_f64(f.0).unwrap_or_else(|| panic!("{at}: {} has no JSON form", f.0)),
        ),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// Collects every JSON object under `value` whose `@type` is `type_url`, with its path.
fn objects_of_type<'a>(
    value: &'a Value,
    type_url: &str,
    path: &str,
    out: &mut Vec<(String, &'a Map<String, Value>)>,
) {
    match value {
        Value::Object(object) => {
            if object.get("@type").and_then(Value::as_str) == Some(type_url) {
                out.push((path.to_owned(), object));
            }
            for (key, child) in object {
                objects_of_type(child, type_url, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                objects_of_type(child, type_url, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn find_objects<'a>(value: &'a Value, type_url: &str) -> Vec<(String, &'a Map<String, Value>)> {
    let mut out = Vec::new();
    objects_of_type(value, type_url, "", &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Istio's conversion of `pluginConfig`

/// How numbers are written when a `pluginConfig` is turned into JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumberSpelling {
    /// As the YAML has them, integers as integers. This is the baseline, not what Istio
    /// sends.
    AsWritten,
    /// As Istio sends them. Kubernetes and Istio hold `pluginConfig` as a protobuf
    /// `Struct`, so every number is a double, and istiod writes the configuration with
    /// golang/protobuf's jsonpb, which formats a double with Go's encoding/json.
    Go,
    /// Every number as a double with a fraction or an exponent (`1048576.0`), as another
    /// control plane that serialises the `Struct` may send it.
    WithFraction,
}

/// Formats a double as Go's encoding/json does: the shortest text that reads back as
/// the same double, in positional form, or in exponent form (`1e+21`, `1e-7`) below
/// 1e-6 and from 1e21 on.
fn go_float(x: f64) -> String {
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        // Rust writes `1e21` and `1.5e-7`; Go writes `1e+21` and, after its clean-up of
        // a one-digit negative exponent, `1.5e-7`.
        let text = format!("{x:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        }
    } else {
        // Rust's Display also writes the shortest text that reads back as `x`.
        format!("{x}")
    }
}

fn spell_number(number: &Number, spelling: NumberSpelling) -> String {
    if spelling == NumberSpelling::AsWritten {
        return number.to_string();
    }

    // Integers above 2^53 lose precision here, as they do in the Struct.
    let double = number.as_f64().unwrap();
    assert!(double.is_finite(), "{number} has no JSON form in a Struct");
    let text = go_float(double);
    if spelling == NumberSpelling::WithFraction && !text.contains(['.', 'e']) {
        format!("{text}.0")
    } else {
        text
    }
}

/// Writes `value` as Istio sends a `pluginConfig`: object members sorted by name (the
/// `Struct`'s fields are a map, which jsonpb writes in key order), numbers spelt as
/// asked.
fn write_plugin_json(value: &Value, spelling: NumberSpelling, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(number) => out.push_str(&spell_number(number, spelling)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_plugin_json(item, spelling, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            let mut members: Vec<_> = object.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_plugin_json(member, spelling, out);
            }
            out.push('}');
        }
    }
}

fn plugin_json(value: &Value, spelling: NumberSpelling) -> String {
    let mut out = String::new();
    write_plugin_json(value, spelling, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Finding the plugin configurations

/// A plugin configuration found in a deployment file.
struct PluginConfig {
    /// Where it was found, for messages.
    location: String,
    /// File it was found in, relative to `envoy/`.
    file: String,
    /// Whether it sits in a static Envoy bootstrap (as opposed to a Kubernetes resource).
    in_bootstrap: bool,
    /// The Envoy `PluginConfig` around it, or `None` for an Istio `WasmPlugin`.
    envoy_plugin: Option<Value>,
    /// The JSON text the filter receives.
    json: String,
}

impl PluginConfig {
    fn parse(&self) -> FilterConfig {
        FilterConfig::from_json(self.json.as_bytes()).unwrap_or_else(|e| {
            panic!(
                "{}: the filter rejects its configuration: {e}\n{}",
                self.location, self.json
            )
        })
    }

    fn is_wasm_plugin(&self) -> bool {
        self.envoy_plugin.is_none()
    }
}

/// Returns the Envoy Wasm filters in `document`: the `config` of every object typed
/// `envoy.extensions.filters.http.wasm.v3.Wasm`, with its location.
fn envoy_wasm_plugins(document: &Document) -> Vec<(String, Value)> {
    find_objects(&document.value, WASM_FILTER_TYPE)
        .into_iter()
        .map(|(path, wasm)| {
            let location = format!("{} at {path}", document.name());
            let config = wasm
                .get("config")
                .unwrap_or_else(|| panic!("{location}: Wasm filter without `config`"));
            (location, config.clone())
        })
        .collect()
}

/// Returns the JSON string an Envoy `PluginConfig` passes to the filter.
fn envoy_configuration_json(location: &str, plugin: &Value) -> String {
    let configuration = &plugin["configuration"];
    assert_eq!(
        configuration["@type"], STRING_VALUE_TYPE,
        "{location}: `configuration` must be a google.protobuf.StringValue holding the JSON"
    );
    configuration["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{location}: `configuration.value` must be a string"))
        .to_owned()
}

fn plugin_configs(documents: &[Document], spelling: NumberSpelling) -> Vec<PluginConfig> {
    let mut configs = Vec::new();
    for document in documents {
        for (location, plugin) in envoy_wasm_plugins(document) {
            configs.push(PluginConfig {
                json: envoy_configuration_json(&location, &plugin),
                location,
                file: document.file.clone(),
                in_bootstrap: document.is_bootstrap(),
                envoy_plugin: Some(plugin),
            });
        }

        if document.kind() == Some("WasmPlugin") {
            let plugin_config = &document.value["spec"]["pluginConfig"];
            assert!(
                plugin_config.is_object(),
                "{}: spec.pluginConfig must be a mapping",
                document.name()
            );
            configs.push(PluginConfig {
                location: format!("{} at spec.pluginConfig", document.name()),
                file: document.file.clone(),
                in_bootstrap: false,
                envoy_plugin: None,
                json: plugin_json(plugin_config, spelling),
            });
        }
    }
    configs
}

fn documents_of_kind<'a>(documents: &'a [Document], kind: &str) -> Vec<&'a Document> {
    let found: Vec<_> = documents
        .iter()
        .filter(|d| d.kind() == Some(kind))
        .collect();
    assert!(!found.is_empty(), "no {kind} in envoy/");
    found
}

fn bootstraps(documents: &[Document]) -> Vec<&Document> {
    let found: Vec<_> = documents.iter().filter(|d| d.is_bootstrap()).collect();
    assert!(!found.is_empty(), "no Envoy bootstrap in envoy/");
    found
}

/// Returns the lower-case hex digest of an `oci://...@sha256:<digest>` reference.
fn oci_digest(url: &str) -> Option<&str> {
    let (_, digest) = url.strip_prefix("oci://")?.rsplit_once("@sha256:")?;
    let is_hex = digest
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (digest.len() == 64 && is_hex).then_some(digest)
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn deployment_files_exist_and_readme_names_them() {
    let files = yaml_files();
    for expected in EXPECTED_FILES {
        assert!(
            files.iter().any(|f| f == expected),
            "envoy/{expected} is missing"
        );
    }

    let readme = fs::read_to_string(envoy_dir().join("README.md")).unwrap();
    for file in &files {
        assert!(
            readme.contains(&format!("`{file}`")),
            "envoy/README.md does not describe `{file}`"
        );
    }
}

#[test]
fn every_plugin_config_is_accepted() {
    let documents = load_documents();
    for spelling in [
        NumberSpelling::AsWritten,
        NumberSpelling::Go,
        NumberSpelling::WithFraction,
    ] {
        let configs = plugin_configs(&documents, spelling);
        for file in FILES_WITH_PLUGIN_CONFIG {
            assert!(
                configs.iter().any(|c| c.file == file),
                "no plugin configuration found in envoy/{file}"
            );
        }
        for config in &configs {
            config.parse();
        }
    }
}

#[test]
fn istio_number_spellings_parse_alike() {
    let documents = load_documents();
    let parse_all = |spelling| -> Vec<FilterConfig> {
        plugin_configs(&documents, spelling)
            .iter()
            .filter(|c| c.is_wasm_plugin())
            .map(PluginConfig::parse)
            .collect()
    };
    let written = parse_all(NumberSpelling::AsWritten);
    assert!(!written.is_empty(), "no WasmPlugin pluginConfig in envoy/");

    for spelling in [NumberSpelling::Go, NumberSpelling::WithFraction] {
        let converted = parse_all(spelling);
        assert_eq!(converted.len(), written.len());
        for (as_written, as_sent) in written.iter().zip(&converted) {
            assert_eq!(
                as_sent.max_body_bytes, as_written.max_body_bytes,
                "{spelling:?}"
            );
            assert_eq!(
                as_sent.reject_status, as_written.reject_status,
                "{spelling:?}"
            );
            assert_eq!(as_sent.no_keys, as_written.no_keys, "{spelling:?}");
            assert_eq!(
                as_sent.hold_timeout_ms, as_written.hold_timeout_ms,
                "{spelling:?}"
            );
            assert_eq!(as_sent.key_source, as_written.key_source, "{spelling:?}");
        }
    }
}

#[test]
fn go_float_spelling_follows_encoding_json() {
    assert_eq!(go_float(1_048_576.0), "1048576");
    assert_eq!(go_float(0.5), "0.5");
    assert_eq!(go_float(-0.0), "-0");
    assert_eq!(go_float(1e-6), "0.000001");
    assert_eq!(go_float(1.5e-7), "1.5e-7");
    assert_eq!(go_float(1e20), "100000000000000000000");
    assert_eq!(go_float(1e21), "1e+21");
    // 2^53 + 1 is not a double, so the Struct stores 2^53.
    assert_eq!(
        go_float(9_007_199_254_740_993_i64 as f64),
        "9007199254740992"
    );
}

#[test]
fn listeners_require_hub_ca_client_certificates() {
    let documents = load_documents();
    for document in bootstraps(&documents) {
        let listeners = document.value["static_resources"]["listeners"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no static_resources.listeners", document.name()));
        assert!(!listeners.is_empty(), "{}: no listener", document.name());

        for listener in listeners {
            let name = format!("{} listener {}", document.name(), listener["name"]);
            let chains = listener["filter_chains"].as_array().unwrap();
            assert!(!chains.is_empty(), "{name}: no filter chain");

            for (i, chain) in chains.iter().enumerate() {
                let at = format!("{name} filter chain {i}");
                let socket = &chain["transport_socket"];
                assert_eq!(
                    socket["name"], "envoy.transport_sockets.tls",
                    "{at}: not TLS"
                );
                let tls = &socket["typed_config"];
                assert_eq!(tls["@type"], DOWNSTREAM_TLS_TYPE, "{at}");
                assert_eq!(
                    tls["require_client_certificate"], true,
                    "{at}: require_client_certificate must be true"
                );

                let common = &tls["common_tls_context"];
                let trusted_ca = common["validation_context"]["trusted_ca"]["filename"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    !trusted_ca.is_empty(),
                    "{at}: validation_context.trusted_ca.filename must name the Hub CA file"
                );
                let minimum = &common["tls_params"]["tls_minimum_protocol_version"];
                assert!(
                    minimum == "TLSv1_2" || minimum == "TLSv1_3",
                    "{at}: tls_minimum_protocol_version is {minimum}, expected TLSv1_2 or TLSv1_3"
                );
            }
        }
    }
}

#[test]
fn connection_managers_sanitize_and_set_xfcc() {
    let documents = load_documents();
    for document in bootstraps(&documents) {
        let managers = find_objects(&document.value, CONNECTION_MANAGER_TYPE);
        assert!(
            !managers.is_empty(),
            "{}: no HTTP connection manager",
            document.name()
        );

        for (path, manager) in managers {
            let at = format!("{} at {path}", document.name());
            assert_eq!(
                manager["forward_client_cert_details"], "SANITIZE_SET",
                "{at}: a DFSP could forge x-forwarded-client-cert"
            );
            let details = &manager["set_current_client_cert_details"];
            for detail in ["subject", "uri", "dns"] {
                assert_eq!(
                    details[detail], true,
                    "{at}: set_current_client_cert_details.{detail} must be true"
                );
            }
        }
    }
}

#[test]
fn key_cluster_is_defined_in_the_same_bootstrap() {
    let documents = load_documents();
    for document in bootstraps(&documents) {
        let clusters: Vec<&str> = document.value["static_resources"]["clusters"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no static_resources.clusters", document.name()))
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();

        let configs = plugin_configs(std::slice::from_ref(document), NumberSpelling::AsWritten);
        assert!(
            !configs.is_empty(),
            "{}: no plugin configuration",
            document.name()
        );
        for config in configs {
            let Some(source) = config.parse().key_source else {
                continue;
            };
            assert!(
                clusters.contains(&source.cluster.as_str()),
                "{}: key_source.cluster {:?} is not one of the clusters {clusters:?}",
                config.location,
                source.cluster
            );
        }
    }
}

#[test]
fn istio_key_cluster_names_a_mesh_service() {
    let documents = load_documents();
    let configs: Vec<_> = plugin_configs(&documents, NumberSpelling::Go)
        .into_iter()
        .filter(|c| !c.in_bootstrap)
        .collect();
    assert!(
        !configs.is_empty(),
        "no Istio plugin configuration in envoy/"
    );

    let mut names = Vec::new();
    for config in &configs {
        let source = config
            .parse()
            .key_source
            .unwrap_or_else(|| panic!("{}: no key_source", config.location));
        // Istio names the cluster of a Service port `outbound|<port>|<subset>|<host>`.
        let parts: Vec<&str> = source.cluster.split('|').collect();
        let shape_ok = parts.len() == 4
            && parts[0] == "outbound"
            && parts[1].parse::<u16>().is_ok_and(|port| port > 0)
            && parts[2].is_empty()
            && parts[3].ends_with(".svc.cluster.local");
        assert!(
            shape_ok,
            "{}: key_source.cluster {:?} is not Istio's outbound|<port>||<service>.<namespace>.svc.cluster.local",
            config.location, source.cluster
        );
        names.push(source.cluster);
    }

    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        1,
        "the Istio files name different key clusters: {names:?}"
    );
}

#[test]
fn hold_headers_flow_goes_with_stop_iteration() {
    let documents = load_documents();
    for config in plugin_configs(&documents, NumberSpelling::Go) {
        let holds_headers = config.parse().flow == Flow::HoldHeaders;

        match &config.envoy_plugin {
            Some(plugin) => {
                let stop_iteration = plugin["allow_on_headers_stop_iteration"] == true;
                assert_eq!(
                    stop_iteration, holds_headers,
                    "{}: allow_on_headers_stop_iteration must be true exactly when the flow is hold-headers",
                    config.location
                );
            }
            None => assert!(
                !holds_headers,
                "{}: a WasmPlugin cannot set allow_on_headers_stop_iteration, so it cannot use hold-headers",
                config.location
            ),
        }

        let hold_headers_file = config.file.contains("hold-headers");
        assert_eq!(
            holds_headers, hold_headers_file,
            "{}: the flow must be hold-headers exactly in the *hold-headers* files",
            config.location
        );
    }
}

/// Returns `bootstrap` without the settings that may differ between the two flows: the
/// `allow_on_headers_stop_iteration` field, and `flow` and `headers` in the configuration.
fn without_flow_settings(bootstrap: &Value) -> Value {
    match bootstrap {
        Value::Object(object) => {
            let mut out = Map::new();
            let is_wasm_plugin_config = object.contains_key("vm_config");
            for (key, member) in object {
                if is_wasm_plugin_config && key == "allow_on_headers_stop_iteration" {
                    continue;
                }
                let member = if is_wasm_plugin_config && key == "configuration" {
                    let mut configuration = member.clone();
                    let json = configuration["value"].as_str().unwrap();
                    let mut parsed: Value = serde_json::from_str(json).unwrap();
                    let fields = parsed.as_object_mut().unwrap();
                    fields.remove("flow");
                    fields.remove("headers");
                    configuration["value"] = parsed;
                    configuration
                } else {
                    without_flow_settings(member)
                };
                out.insert(key.clone(), member);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(without_flow_settings).collect()),
        _ => bootstrap.clone(),
    }
}

#[test]
fn hold_headers_bootstrap_differs_only_in_flow() {
    let documents = load_documents();
    let bootstrap = |file: &str| {
        let found: Vec<_> = documents.iter().filter(|d| d.file == file).collect();
        assert_eq!(found.len(), 1, "envoy/{file} must hold one document");
        without_flow_settings(&found[0].value)
    };

    assert_eq!(
        bootstrap("envoy-hold-headers.yaml"),
        bootstrap("envoy.yaml"),
        "envoy-hold-headers.yaml must equal envoy.yaml except for the flow settings"
    );
}

#[test]
fn listener_buffer_limit_covers_max_body_bytes() {
    let documents = load_documents();
    for document in bootstraps(&documents) {
        for listener in document.value["static_resources"]["listeners"]
            .as_array()
            .unwrap()
        {
            let name = format!("{} listener {}", document.name(), listener["name"]);
            let listener_document = Document {
                file: document.file.clone(),
                number: document.number,
                value: listener.clone(),
            };
            let configs = plugin_configs(
                std::slice::from_ref(&listener_document),
                NumberSpelling::AsWritten,
            );
            if configs.is_empty() {
                continue;
            }

            let limit = listener["per_connection_buffer_limit_bytes"]
                .as_u64()
                .unwrap_or_else(|| {
                    panic!(
                        "{name}: set per_connection_buffer_limit_bytes (Envoy's default is 1 MiB)"
                    )
                });
            for config in configs {
                let max_body_bytes = config.parse().max_body_bytes as u64;
                assert!(
                    limit >= max_body_bytes,
                    "{name}: per_connection_buffer_limit_bytes {limit} is below max_body_bytes {max_body_bytes}, so Envoy would answer 413 before the filter sees the body"
                );
            }
        }
    }
}

#[test]
fn envoy_wasm_filters_fail_closed() {
    let documents = load_documents();
    let configs: Vec<_> = plugin_configs(&documents, NumberSpelling::AsWritten)
        .into_iter()
        .filter(|c| !c.is_wasm_plugin())
        .collect();
    assert!(!configs.is_empty(), "no Envoy Wasm filter in envoy/");

    for config in configs {
        let at = &config.location;
        let plugin = config.envoy_plugin.as_ref().unwrap();
        let policy = &plugin["failure_policy"];
        assert!(
            policy == "FAIL_RELOAD" || policy == "FAIL_CLOSED",
            "{at}: failure_policy is {policy}, expected FAIL_RELOAD or FAIL_CLOSED"
        );
        assert_ne!(
            plugin["fail_open"], true,
            "{at}: fail_open must not be true"
        );
        assert_eq!(plugin["root_id"], "fspiop-guard", "{at}");

        let vm = &plugin["vm_config"];
        assert_eq!(vm["runtime"], "envoy.wasm.runtime.v8", "{at}");
        assert_eq!(vm["vm_id"], "fspiop-guard", "{at}");
        if config.in_bootstrap {
            let file = vm["code"]["local"]["filename"].as_str().unwrap_or_default();
            assert!(
                file.ends_with("/fspiop_guard_envoy_filter.wasm"),
                "{at}: vm_config.code.local.filename is {file:?}"
            );
        }
    }
}

#[test]
fn wasm_plugin_on_gateway_fails_closed() {
    let documents = load_documents();
    for document in documents_of_kind(&documents, "WasmPlugin") {
        let at = document.name();
        assert_eq!(
            document.value["apiVersion"], "extensions.istio.io/v1alpha1",
            "{at}"
        );
        let spec = &document.value["spec"];
        assert_eq!(
            spec["selector"]["matchLabels"]["istio"], "ingressgateway",
            "{at}: the filter must run on the gateway that terminates the DFSP's TLS"
        );
        assert!(
            spec.get("targetRefs").is_none(),
            "{at}: use the selector, not targetRefs"
        );
        assert_eq!(spec["phase"], "AUTHN", "{at}");
        assert_eq!(spec["failStrategy"], "FAIL_CLOSE", "{at}");
        assert_eq!(spec["imagePullPolicy"], "IfNotPresent", "{at}");

        let url = spec["url"].as_str().unwrap_or_default();
        assert!(
            oci_digest(url).is_some(),
            "{at}: url {url:?} must be oci://...@sha256:<64 hex digits>"
        );

        let selectors = spec["match"].as_array().cloned().unwrap_or_default();
        for selector in &selectors {
            let mode = &selector["mode"];
            assert!(
                mode == "CLIENT" || mode == "CLIENT_AND_SERVER",
                "{at}: match mode {mode} does not select a gateway's listeners"
            );
            assert!(
                selector.get("ports").is_none(),
                "{at}: a port selector that misses the gateway's port would skip the filter"
            );
        }
    }
}

#[test]
fn envoy_filter_inserts_the_extension_it_defines() {
    let documents = load_documents();
    for document in documents_of_kind(&documents, "EnvoyFilter") {
        let at = document.name();
        let spec = &document.value["spec"];
        assert_eq!(
            spec["workloadSelector"]["labels"]["istio"], "ingressgateway",
            "{at}: the filter must run on the gateway that terminates the DFSP's TLS"
        );
        let patches = spec["configPatches"].as_array().unwrap();
        for patch in patches {
            assert_eq!(patch["match"]["context"], "GATEWAY", "{at}");
        }

        let extensions: Vec<&Value> = patches
            .iter()
            .filter(|p| p["applyTo"] == "EXTENSION_CONFIG")
            .collect();
        let http_filters: Vec<&Value> = patches
            .iter()
            .filter(|p| p["applyTo"] == "HTTP_FILTER")
            .collect();
        assert_eq!(
            extensions.len(),
            1,
            "{at}: expected one EXTENSION_CONFIG patch"
        );
        assert_eq!(
            http_filters.len(),
            1,
            "{at}: expected one HTTP_FILTER patch"
        );

        // Istio applies only ADD to extension configs and ignores any other operation.
        let extension = &extensions[0]["patch"];
        assert_eq!(extension["operation"], "ADD", "{at}");
        let name = extension["value"]["name"].as_str().unwrap_or_default();
        assert!(!name.is_empty(), "{at}: the extension config has no name");
        let wasm = &extension["value"]["typed_config"];
        assert_eq!(wasm["@type"], WASM_FILTER_TYPE, "{at}");

        let filter = &http_filters[0]["patch"];
        assert_eq!(
            filter["operation"], "INSERT_FIRST",
            "{at}: INSERT_FIRST cannot miss its anchor; INSERT_BEFORE a filter the gateway lacks adds nothing"
        );
        assert_eq!(
            filter["value"]["name"], name,
            "{at}: the HTTP filter must load the extension config by its name"
        );
        let type_urls = filter["value"]["config_discovery"]["type_urls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            type_urls.iter().any(|t| t == WASM_FILTER_TYPE),
            "{at}: config_discovery.type_urls must list the Wasm filter type"
        );

        let remote = &wasm["config"]["vm_config"]["code"]["remote"];
        let url = remote["http_uri"]["uri"].as_str().unwrap_or_default();
        let digest = oci_digest(url).unwrap_or_else(|| {
            panic!("{at}: module uri {url:?} must be oci://...@sha256:<64 hex digits>")
        });
        assert_eq!(
            remote["sha256"], digest,
            "{at}: remote.sha256 must repeat the digest in the uri"
        );
    }
}

#[test]
fn gateway_requires_mutual_tls() {
    let documents = load_documents();
    for document in documents_of_kind(&documents, "Gateway") {
        let at = document.name();
        let spec = &document.value["spec"];
        assert_eq!(spec["selector"]["istio"], "ingressgateway", "{at}");

        let servers = spec["servers"].as_array().unwrap();
        assert!(!servers.is_empty(), "{at}: no server");
        for server in servers {
            let port = &server["port"];
            assert_eq!(
                port["protocol"], "HTTPS",
                "{at}: server {} must be HTTPS with mutual TLS",
                port["name"]
            );
            assert_eq!(server["tls"]["mode"], "MUTUAL", "{at}");
            let credential = server["tls"]["credentialName"].as_str().unwrap_or_default();
            assert!(
                !credential.is_empty(),
                "{at}: tls.credentialName must name the Secret with the Hub CA"
            );
        }
    }
}

#[test]
fn misspelt_field_is_rejected_and_named() {
    let documents = load_documents();
    let configs = plugin_configs(&documents, NumberSpelling::Go);

    // A misspelt field in an Envoy configuration string.
    let envoy = configs.iter().find(|c| c.in_bootstrap).unwrap();
    let mut value: Value = serde_json::from_str(&envoy.json).unwrap();
    let source = value["key_source"].as_object_mut().unwrap();
    let period = source.remove("refresh_period_ms").unwrap();
    source.insert("refresh_periode_ms".to_owned(), period);
    let err = FilterConfig::from_json(value.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.field, "key_source.refresh_periode_ms");
    assert!(err.message.contains("unknown field"), "{err}");
    assert!(
        err.to_string().contains("key_source.refresh_periode_ms"),
        "{err}"
    );

    // A misspelt field in a WasmPlugin's pluginConfig, after Istio's conversion.
    let wasm_plugin = documents_of_kind(&documents, "WasmPlugin")[0];
    let mut plugin_config = wasm_plugin.value["spec"]["pluginConfig"].clone();
    let object = plugin_config.as_object_mut().unwrap();
    let limit = object.remove("max_body_bytes").unwrap();
    object.insert("max_body_byte".to_owned(), limit);
    let json = plugin_json(&plugin_config, NumberSpelling::Go);
    let err = FilterConfig::from_json(json.as_bytes()).unwrap_err();
    assert_eq!(err.field, "max_body_byte");
    assert!(err.message.contains("unknown field"), "{err}");
}
