//! keysync configuration: a TOML or YAML file, every setting overridable by an
//! environment variable, validated whole before anything starts.
//!
//! The environment variable of a setting is `KEYSYNC_` followed by its dotted path in
//! upper case with `_` for `.`: `mcm.base_url` is `KEYSYNC_MCM_BASE_URL`. A variable
//! wins over the file. Unknown `KEYSYNC_*` variables are ignored, because Kubernetes
//! adds `<SERVICE>_PORT` style variables for every Service in the namespace.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// Largest configuration file accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Largest file read for a client id or secret, in bytes.
pub const MAX_SECRET_FILE_BYTES: usize = 64 * 1024;

/// Deepest nesting of arrays and tables in a configuration file. The configuration
/// nests two deep, so the limit only stops hostile input before it reaches the parser.
const MAX_NESTING: usize = 32;

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "KEYSYNC_";

/// Type of a setting's value, for reading it from an environment variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingType {
    String,
    Integer,
    Number,
    Boolean,
}

/// Every setting: dotted path, type, default as text (empty when there is none), unit,
/// and meaning. `docs/KEYSYNC.md` lists the same table for operators.
pub const SETTINGS: &[(&str, SettingType, &str, &str, &str)] = &[
    (
        "mcm.base_url",
        SettingType::String,
        "",
        "URL",
        "MCM API base URL including /api, for example http://mcm-connection-manager-api:3001/api",
    ),
    (
        "mcm.dfsp_id",
        SettingType::String,
        "",
        "",
        "own DFSP id, sent as X-DFSP-ID as PM4ML does",
    ),
    (
        "mcm.timeout_seconds",
        SettingType::Number,
        "10",
        "seconds",
        "timeout of one MCM or token request",
    ),
    (
        "mcm.max_response_bytes",
        SettingType::Integer,
        "16777216",
        "bytes",
        "largest MCM response read",
    ),
    (
        "auth.token_url",
        SettingType::String,
        "",
        "URL",
        "OAuth2 token endpoint; without it no token is sent",
    ),
    (
        "auth.client_id",
        SettingType::String,
        "",
        "",
        "OAuth2 client id",
    ),
    (
        "auth.client_id_file",
        SettingType::String,
        "",
        "path",
        "file holding the client id",
    ),
    (
        "auth.client_secret",
        SettingType::String,
        "",
        "",
        "OAuth2 client secret",
    ),
    (
        "auth.client_secret_file",
        SettingType::String,
        "",
        "path",
        "file holding the client secret",
    ),
    (
        "auth.scope",
        SettingType::String,
        "",
        "",
        "OAuth2 scope sent with the login, if any",
    ),
    (
        "auth.refresh_margin_seconds",
        SettingType::Number,
        "30",
        "seconds",
        "log in again this long before the token expires",
    ),
    (
        "tls.ca_file",
        SettingType::String,
        "",
        "path",
        "PEM CA bundle that signs the MCM ingress certificate; default the Mozilla roots",
    ),
    (
        "tls.client_cert_file",
        SettingType::String,
        "",
        "path",
        "PEM client certificate chain for mTLS to the ingress",
    ),
    (
        "tls.client_key_file",
        SettingType::String,
        "",
        "path",
        "PEM private key of the client certificate",
    ),
    (
        "poll.period_seconds",
        SettingType::Number,
        "60",
        "seconds",
        "time between MCM polls",
    ),
    (
        "poll.jitter",
        SettingType::Number,
        "0.1",
        "fraction",
        "each wait is changed by a random share of up to this much",
    ),
    (
        "poll.backoff_initial_seconds",
        SettingType::Number,
        "5",
        "seconds",
        "wait after the first failed poll; doubles on each further failure",
    ),
    (
        "poll.backoff_max_seconds",
        SettingType::Number,
        "300",
        "seconds",
        "longest wait after failures",
    ),
    (
        "keys.overlap_seconds",
        SettingType::Number,
        "86400",
        "seconds",
        "how long a replaced key still verifies",
    ),
    (
        "keys.grace_seconds",
        SettingType::Number,
        "604800",
        "seconds",
        "how long a participant missing from MCM keeps its keys",
    ),
    (
        "keys.max_removal_share",
        SettingType::Number,
        "0.5",
        "fraction",
        "a poll that lacks more than this share of known participants is held back",
    ),
    (
        "keys.max_keys_per_participant",
        SettingType::Integer,
        "8",
        "keys",
        "keys kept per participant; the oldest replaced keys retire early beyond it",
    ),
    (
        "keys.validation_state",
        SettingType::String,
        "ignore",
        "",
        "ignore: use INVALID entries as PM4ML does; trust: skip them",
    ),
    (
        "state.file",
        SettingType::String,
        "",
        "path",
        "last-known-good state file, loaded at start",
    ),
    (
        "output.pem_dir",
        SettingType::String,
        "",
        "path",
        "directory of <fspId>.pem files for JWS_VERIFICATION_KEYS_DIRECTORY",
    ),
    (
        "listen.address",
        SettingType::String,
        "127.0.0.1:8080",
        "address",
        "address of /v1/keys, /metrics, /healthz and /readyz",
    ),
    (
        "listen.cors_allow_origins",
        SettingType::String,
        "",
        "origins",
        "comma-separated browser origins allowed to read /v1/keys, or *; empty allows none",
    ),
    (
        "refresh.min_interval_seconds",
        SettingType::Number,
        "5",
        "seconds",
        "shortest time between two polls requested by verifiers",
    ),
    (
        "refresh.wait_ms",
        SettingType::Integer,
        "1500",
        "milliseconds",
        "how long a refresh request waits for its poll before the key set is sent",
    ),
];

/// A configuration keysync refuses, with the setting at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the setting; empty for the file as a whole.
    pub setting: String,
    /// The problem and the fix.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.setting.is_empty() {
            write!(f, "keysync configuration: {}", self.message)
        } else {
            write!(
                f,
                "keysync setting {} ({}): {}",
                self.setting,
                env_name(&self.setting),
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

fn error(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        message: message.into(),
    }
}

/// Returns the environment variable that overrides `setting`.
pub fn env_name(setting: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        setting.to_ascii_uppercase().replace('.', "_")
    )
}

/// Policy for the `validationState` that MCM reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidationPolicy {
    /// Use entries whatever their state, as PM4ML does. MCM marks every EC key INVALID.
    Ignore,
    /// Skip entries that MCM marks INVALID.
    Trust,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub mcm: McmConfig,
    pub auth: Option<AuthConfig>,
    pub tls: TlsConfig,
    pub poll: PollConfig,
    pub keys: KeyPolicy,
    /// Last-known-good state file.
    pub state_file: Option<PathBuf>,
    /// Directory of `<fspId>.pem` files.
    pub pem_dir: Option<PathBuf>,
    /// Address of the HTTP outputs.
    pub listen: SocketAddr,
    /// Browser origins that may read `/v1/keys`, such as the verification page's.
    pub cors: CorsOrigins,
    pub refresh: RefreshConfig,
}

/// Location of MCM and limits of its requests.
#[derive(Clone, Debug)]
pub struct McmConfig {
    /// Base URL including `/api`, without a trailing `/`.
    pub base_url: String,
    /// Sent as `X-DFSP-ID`.
    pub dfsp_id: Option<String>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

/// OAuth2 client-credentials login.
#[derive(Clone)]
pub struct AuthConfig {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: Option<String>,
    pub refresh_margin: Duration,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.scope)
            .field("refresh_margin", &self.refresh_margin)
            .finish()
    }
}

/// TLS material for the ingress in front of MCM.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    pub ca_file: Option<PathBuf>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

/// Poll schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollConfig {
    pub period: Duration,
    /// Largest share by which a wait is randomly lengthened or shortened, 0 to 0.5.
    pub jitter: f64,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}

/// Rules of the key history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyPolicy {
    /// How long a replaced key still verifies, in seconds.
    pub overlap_seconds: i64,
    /// How long a participant missing from MCM keeps its keys, in seconds.
    pub grace_seconds: i64,
    /// Share of known participants, 0 to 1, that one poll may lack before it is held back.
    pub max_removal_share: f64,
    pub max_keys_per_participant: usize,
    pub validation: ValidationPolicy,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            overlap_seconds: 86_400,
            grace_seconds: 604_800,
            max_removal_share: 0.5,
            max_keys_per_participant: 8,
            validation: ValidationPolicy::Ignore,
        }
    }
}

/// Polls requested by verifiers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefreshConfig {
    pub min_interval: Duration,
    pub wait: Duration,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    mcm: RawMcm,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    poll: RawPoll,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    state: RawState,
    #[serde(default)]
    output: RawOutput,
    #[serde(default)]
    listen: RawListen,
    #[serde(default)]
    refresh: RawRefresh,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMcm {
    base_url: Option<String>,
    dfsp_id: Option<String>,
    timeout_seconds: Option<f64>,
    max_response_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    token_url: Option<String>,
    client_id: Option<String>,
    client_id_file: Option<PathBuf>,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    scope: Option<String>,
    refresh_margin_seconds: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    period_seconds: Option<f64>,
    jitter: Option<f64>,
    backoff_initial_seconds: Option<f64>,
    backoff_max_seconds: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    overlap_seconds: Option<f64>,
    grace_seconds: Option<f64>,
    max_removal_share: Option<f64>,
    max_keys_per_participant: Option<u64>,
    validation_state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    file: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    pem_dir: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawListen {
    address: Option<String>,
    cors_allow_origins: Option<Origins>,
}

/// `listen.cors_allow_origins`: a list in a file, or one comma-separated string (as the
/// environment variable gives it).
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a list of origins, or one string of comma-separated origins"
)]
enum Origins {
    Text(String),
    List(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    min_interval_seconds: Option<f64>,
    wait_ms: Option<u64>,
}

/// Browser origins allowed to read the key set across origins (the Fetch standard's CORS).
///
/// The key set contains public keys only, so this is about which web pages may read it
/// through a user's browser, not about secrecy. Nothing is allowed unless configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No `Access-Control-Allow-Origin` header is sent.
    #[default]
    None,
    /// `*`: any page may read the key set.
    Any,
    /// These origins, serialised as browsers send them in `Origin`.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Maximum number of origins in the list.
    pub const MAX_ORIGINS: usize = 64;

    /// Reads a comma-separated list of origins such as `http://127.0.0.1:8731`, or `*`.
    ///
    /// Each origin is a scheme (`http` or `https`), a host and an optional port, with no
    /// path. Scheme and host are lowercased and a default port is dropped, as browsers do
    /// when they send `Origin` (RFC 6454, section 6.1).
    ///
    /// # Errors
    /// A message naming the value that is not an origin.
    pub fn parse(text: &str) -> Result<CorsOrigins, String> {
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(CorsOrigins::None);
        }
        if items == ["*"] {
            return Ok(CorsOrigins::Any);
        }
        if items.len() > Self::MAX_ORIGINS {
            return Err(format!(
                "{} origins are listed; at most {} are allowed, or * for any",
                items.len(),
                Self::MAX_ORIGINS
            ));
        }
        items
            .into_iter()
            .map(normalise_origin)
            .collect::<Result<Vec<_>, _>>()
            .map(CorsOrigins::List)
    }

    /// Returns the `Access-Control-Allow-Origin` value for a request's `Origin`, if the
    /// origin is allowed.
    pub fn allow(&self, origin: Option<&str>) -> Option<String> {
        match (self, origin) {
            (CorsOrigins::None, _) | (CorsOrigins::List(_), None) => None,
            (CorsOrigins::Any, _) => Some("*".to_owned()),
            (CorsOrigins::List(list), Some(origin)) => {
                let origin = normalise_origin(origin).ok()?;
                list.contains(&origin).then_some(origin)
            }
        }
    }
}

/// Lowercases an origin's scheme and host and drops its default port.
fn normalise_origin(text: &str) -> Result<String, String> {
    let problem = || {
        format!(
            "{text:?} is not an origin; write the scheme, host and port the page is served \
             from, such as http://127.0.0.1:8731, with no path"
        )
    };
    let lower = text.trim().to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").ok_or_else(problem)?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return Err(problem()),
    };
    let bad_character = |c: char| c.is_whitespace() || c.is_control() || "/?#@\\".contains(c);
    if rest.is_empty() || rest.len() > 253 + 6 || rest.contains(bad_character) {
        return Err(problem());
    }
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    Ok(format!("{scheme}://{host}"))
}

/// Format of a configuration file, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Toml,
    Yaml,
}

impl FileFormat {
    /// Picks the format from a file name: `.toml`, or `.yaml` / `.yml`.
    pub fn from_path(path: &Path) -> Result<FileFormat, ConfigError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Ok(FileFormat::Toml),
            Some("yaml" | "yml") => Ok(FileFormat::Yaml),
            _ => Err(error(
                "",
                format!(
                    "cannot tell the format of {}; name the file *.toml, *.yaml or *.yml",
                    path.display()
                ),
            )),
        }
    }
}

impl Config {
    /// Loads the configuration from an optional file and the process environment.
    ///
    /// # Errors
    /// The file cannot be read or parsed, a setting is unknown, mistyped or out of
    /// range, or a secret file cannot be read.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            None => None,
            Some(path) => {
                let format = FileFormat::from_path(path)?;
                let bytes =
                    read_limited(path, MAX_CONFIG_BYTES).map_err(|message| error("", message))?;
                Some((format, bytes))
            }
        };
        let environment: Vec<(String, String)> = std::env::vars()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();
        let text_ref = text.as_ref().map(|(f, b)| (*f, b.as_slice()));
        Config::from_parts(text_ref, &environment)
    }

    /// Builds the configuration from file text and `(name, value)` environment pairs.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_parts(
        file: Option<(FileFormat, &[u8])>,
        environment: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut tree = match file {
            None => Value::Object(Map::new()),
            Some((format, bytes)) => parse_file(format, bytes)?,
        };
        apply_environment(&mut tree, environment)?;
        let raw: RawConfig = serde_path_to_error::deserialize(tree).map_err(|e| {
            let setting = e.path().to_string();
            let setting = if setting == "." {
                String::new()
            } else {
                setting
            };
            error(&setting, e.into_inner().to_string())
        })?;
        validate(raw)
    }
}

/// Reads a file of at most `max` bytes.
pub fn read_limited(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() > max {
        return Err(format!(
            "{} is over the {max}-byte limit; check that the path names the right file",
            path.display()
        ));
    }
    Ok(bytes)
}

/// Parses configuration text into a JSON tree.
///
/// # Errors
/// The text is too large, too deeply nested, not UTF-8, or not valid TOML or YAML.
pub fn parse_file(format: FileFormat, bytes: &[u8]) -> Result<Value, ConfigError> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(error(
            "",
            format!(
                "the file is {} bytes, over the {MAX_CONFIG_BYTES}-byte limit",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| error("", format!("the file is not UTF-8 text: {e}")))?;
    if bracket_depth(text) > MAX_NESTING {
        return Err(error(
            "",
            format!("the file nests arrays or tables more than {MAX_NESTING} deep"),
        ));
    }
    match format {
        FileFormat::Toml => {
            let table: toml::Table =
                toml::from_str(text).map_err(|e| error("", format!("invalid TOML: {e}")))?;
            serde_json::to_value(table).map_err(|e| error("", format!("invalid TOML: {e}")))
        }
        FileFormat::Yaml => parse_yaml(text),
    }
}

/// Returns the deepest nesting of `[` and `{` in `text`, counting brackets inside
/// strings and comments too. Block-style YAML nests by indentation and is bounded by
/// the file size.
fn bracket_depth(text: &str) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn parse_yaml(text: &str) -> Result<Value, ConfigError> {
    use saphyr::{LoadableYamlNode, Yaml};
    let documents =
        Yaml::load_from_str(text).map_err(|e| error("", format!("invalid YAML: {e}")))?;
    match documents.as_slice() {
        [] => Ok(Value::Object(Map::new())),
        [document] => yaml_to_json(document, "", 0),
        _ => Err(error(
            "",
            "the YAML file holds more than one document; keep one",
        )),
    }
}

fn yaml_to_json(node: &saphyr::Yaml, at: &str, depth: usize) -> Result<Value, ConfigError> {
    use saphyr::{Scalar, Yaml};
    if depth > MAX_NESTING {
        return Err(error(at, format!("nested more than {MAX_NESTING} deep")));
    }
    match node {
        Yaml::Value(Scalar::Null) => Ok(Value::Null),
        Yaml::Value(Scalar::Boolean(b)) => Ok(Value::Bool(*b)),
        Yaml::Value(Scalar::Integer(i)) => Ok(Value::Number(Number::from(*i))),
        Yaml::Value(Scalar::FloatingPoint(f)) => Number::from_f64(f.0)
            .map(Value::Number)
            .ok_or_else(|| error(at, format!("{} is not a finite number", f.0))),
        Yaml::Value(Scalar::String(s)) => Ok(Value::String(s.to_string())),
        Yaml::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| yaml_to_json(item, &format!("{at}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let Some(key) = key.as_str() else {
                    return Err(error(at, "a mapping key is not a string"));
                };
                let path = if at.is_empty() {
                    key.to_owned()
                } else {
                    format!("{at}.{key}")
                };
                object.insert(key.to_owned(), yaml_to_json(value, &path, depth + 1)?);
            }
            Ok(Value::Object(object))
        }
        Yaml::Tagged(..) | Yaml::Alias(_) => Err(error(
            at,
            "YAML tags, anchors and aliases are not supported; write the value out",
        )),
        Yaml::Representation(..) | Yaml::BadValue => Err(error(at, "the value is not valid YAML")),
    }
}

/// Writes each `KEYSYNC_*` variable that names a setting into the tree.
fn apply_environment(
    tree: &mut Value,
    environment: &[(String, String)],
) -> Result<(), ConfigError> {
    for (path, kind, ..) in SETTINGS {
        let name = env_name(path);
        let Some((_, text)) = environment.iter().rev().find(|(n, _)| *n == name) else {
            continue;
        };
        let value = match kind {
            SettingType::String => Value::String(text.clone()),
            SettingType::Integer => text
                .trim()
                .parse::<u64>()
                .map(|n| Value::Number(Number::from(n)))
                .map_err(|_| error(path, format!("{text:?} is not a whole number")))?,
            SettingType::Number => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| error(path, format!("{text:?} is not a number")))?,
            SettingType::Boolean => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(error(path, format!("{text:?} is not true or false"))),
            },
        };
        let Some((section, field)) = path.split_once('.') else {
            continue;
        };
        let Value::Object(root) = tree else {
            return Err(error(
                "",
                "the file's top level must be a table of sections",
            ));
        };
        let entry = root
            .entry(section.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(table) = entry else {
            return Err(error(section, "must be a table of settings"));
        };
        table.insert(field.to_owned(), value);
    }
    Ok(())
}

/// Checks a duration in seconds and converts it.
fn seconds(
    setting: &str,
    value: Option<f64>,
    default: f64,
    min: f64,
    max: f64,
) -> Result<Duration, ConfigError> {
    let value = value.unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(error(
            setting,
            format!("{value} is out of range; use {min} to {max} seconds"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

fn fraction(setting: &str, value: Option<f64>, default: f64, max: f64) -> Result<f64, ConfigError> {
    let value = value.unwrap_or(default);
    if !(0.0..=max).contains(&value) {
        return Err(error(
            setting,
            format!("{value} is out of range; use 0 to {max}"),
        ));
    }
    Ok(value)
}

fn non_empty(setting: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(text) if text.trim().is_empty() => {
            Err(error(setting, "is empty; set a value or leave it out"))
        }
        other => Ok(other),
    }
}

fn check_url(setting: &str, url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| error(setting, format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(error(
            setting,
            format!("{url:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(())
}

/// Reads a credential from the setting or its file; exactly one may be given.
fn credential(
    setting: &str,
    value: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<String>, ConfigError> {
    match (non_empty(setting, value)?, file) {
        (Some(_), Some(_)) => Err(error(
            setting,
            format!("is given both directly and as {setting}_file; give one"),
        )),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            let bytes = read_limited(&path, MAX_SECRET_FILE_BYTES)
                .map_err(|message| error(&format!("{setting}_file"), message))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                error(
                    &format!("{setting}_file"),
                    format!("{} is not UTF-8 text", path.display()),
                )
            })?;
            let trimmed = text.trim();
            if trimmed.is_empty() {
                return Err(error(
                    &format!("{setting}_file"),
                    format!("{} is empty", path.display()),
                ));
            }
            Ok(Some(trimmed.to_owned()))
        }
        (None, None) => Ok(None),
    }
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let base_url = non_empty("mcm.base_url", raw.mcm.base_url)?.ok_or_else(|| {
        error(
            "mcm.base_url",
            "missing; give the MCM API base URL including /api, for example http://mcm-connection-manager-api:3001/api",
        )
    })?;
    check_url("mcm.base_url", &base_url)?;
    let max_response_bytes = raw.mcm.max_response_bytes.unwrap_or(16 * 1024 * 1024);
    if !(1024..=256 * 1024 * 1024).contains(&max_response_bytes) {
        return Err(error(
            "mcm.max_response_bytes",
            format!("{max_response_bytes} is out of range; use 1024 to 268435456 bytes"),
        ));
    }
    let mcm = McmConfig {
        base_url: base_url.trim_end_matches('/').to_owned(),
        dfsp_id: non_empty("mcm.dfsp_id", raw.mcm.dfsp_id)?,
        timeout: seconds(
            "mcm.timeout_seconds",
            raw.mcm.timeout_seconds,
            10.0,
            0.1,
            300.0,
        )?,
        max_response_bytes: max_response_bytes as usize,
    };

    let auth = validate_auth(raw.auth)?;

    let tls = TlsConfig {
        ca_file: raw.tls.ca_file,
        client_cert_file: raw.tls.client_cert_file,
        client_key_file: raw.tls.client_key_file,
    };
    if tls.client_cert_file.is_some() != tls.client_key_file.is_some() {
        return Err(error(
            "tls.client_cert_file",
            "a client certificate needs its key and a key needs its certificate; set both tls.client_cert_file and tls.client_key_file",
        ));
    }

    let period = seconds(
        "poll.period_seconds",
        raw.poll.period_seconds,
        60.0,
        1.0,
        86_400.0,
    )?;
    let backoff_initial = seconds(
        "poll.backoff_initial_seconds",
        raw.poll.backoff_initial_seconds,
        5.0,
        0.1,
        86_400.0,
    )?;
    let backoff_max = seconds(
        "poll.backoff_max_seconds",
        raw.poll.backoff_max_seconds,
        300.0,
        0.1,
        86_400.0,
    )?;
    if backoff_max < backoff_initial {
        return Err(error(
            "poll.backoff_max_seconds",
            "is shorter than poll.backoff_initial_seconds; make it at least as long",
        ));
    }
    let poll = PollConfig {
        period,
        jitter: fraction("poll.jitter", raw.poll.jitter, 0.1, 0.5)?,
        backoff_initial,
        backoff_max,
    };

    let keys = validate_keys(raw.keys)?;

    let address = raw
        .listen
        .address
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen: SocketAddr = address.parse().map_err(|_| {
        error(
            "listen.address",
            format!("{address:?} is not an IP address and port, for example 127.0.0.1:8080"),
        )
    })?;

    let origins = match raw.listen.cors_allow_origins {
        None => String::new(),
        Some(Origins::Text(text)) => text,
        Some(Origins::List(list)) => list.join(","),
    };
    let cors = CorsOrigins::parse(&origins)
        .map_err(|message| error("listen.cors_allow_origins", message))?;

    let wait_ms = raw.refresh.wait_ms.unwrap_or(1500);
    if wait_ms > 60_000 {
        return Err(error(
            "refresh.wait_ms",
            format!("{wait_ms} is out of range; use 0 to 60000 milliseconds"),
        ));
    }
    let refresh = RefreshConfig {
        min_interval: seconds(
            "refresh.min_interval_seconds",
            raw.refresh.min_interval_seconds,
            5.0,
            0.0,
            86_400.0,
        )?,
        wait: Duration::from_millis(wait_ms),
    };

    Ok(Config {
        mcm,
        auth,
        tls,
        poll,
        keys,
        state_file: raw.state.file,
        pem_dir: raw.output.pem_dir,
        listen,
        cors,
        refresh,
    })
}

fn validate_auth(raw: RawAuth) -> Result<Option<AuthConfig>, ConfigError> {
    let client_id = credential("auth.client_id", raw.client_id, raw.client_id_file)?;
    let client_secret = credential(
        "auth.client_secret",
        raw.client_secret,
        raw.client_secret_file,
    )?;
    let Some(token_url) = non_empty("auth.token_url", raw.token_url)? else {
        if client_id.is_some() || client_secret.is_some() {
            return Err(error(
                "auth.token_url",
                "missing, but a client id or secret is set; give the OAuth2 token endpoint, for example https://iam.example/realms/dfsps/protocol/openid-connect/token",
            ));
        }
        return Ok(None);
    };
    check_url("auth.token_url", &token_url)?;
    let client_id = client_id
        .ok_or_else(|| error("auth.client_id", "missing; set it or auth.client_id_file"))?;
    let client_secret = client_secret.ok_or_else(|| {
        error(
            "auth.client_secret",
            "missing; set it or auth.client_secret_file",
        )
    })?;
    Ok(Some(AuthConfig {
        token_url,
        client_id,
        client_secret,
        scope: non_empty("auth.scope", raw.scope)?,
        refresh_margin: seconds(
            "auth.refresh_margin_seconds",
            raw.refresh_margin_seconds,
            30.0,
            0.0,
            3600.0,
        )?,
    }))
}

fn validate_keys(raw: RawKeys) -> Result<KeyPolicy, ConfigError> {
    let whole_seconds = |setting: &str, value: Option<f64>, default: f64| {
        seconds(setting, value, default, 0.0, 31_536_000.0).map(|d| d.as_secs() as i64)
    };
    let max_keys = raw.max_keys_per_participant.unwrap_or(8);
    if !(2..=64).contains(&max_keys) {
        return Err(error(
            "keys.max_keys_per_participant",
            format!("{max_keys} is out of range; use 2 to 64 keys, so a rotation can overlap"),
        ));
    }
    let validation = match raw.validation_state.as_deref().unwrap_or("ignore") {
        "ignore" => ValidationPolicy::Ignore,
        "trust" => ValidationPolicy::Trust,
        other => {
            return Err(error(
                "keys.validation_state",
                format!("{other:?} is not a policy; use ignore or trust"),
            ));
        }
    };
    Ok(KeyPolicy {
        overlap_seconds: whole_seconds("keys.overlap_seconds", raw.overlap_seconds, 86_400.0)?,
        grace_seconds: whole_seconds("keys.grace_seconds", raw.grace_seconds, 604_800.0)?,
        max_removal_share: fraction("keys.max_removal_share", raw.max_removal_share, 0.5, 1.0)?,
        max_keys_per_participant: max_keys as usize,
        validation,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn toml(text: &str) -> Result<Config, ConfigError> {
        Config::from_parts(Some((FileFormat::Toml, text.as_bytes())), &[])
    }

    const MINIMAL: &str = "[mcm]\nbase_url = \"http://mcm:3001/api\"\n";

    #[test]
    fn defaults_apply() {
        let config = toml(MINIMAL).unwrap();
        assert_eq!(config.mcm.base_url, "http://mcm:3001/api");
        assert_eq!(config.poll.period, Duration::from_secs(60));
        assert_eq!(config.keys.overlap_seconds, 86_400);
        assert_eq!(config.keys.validation, ValidationPolicy::Ignore);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.auth.is_none());
    }

    #[test]
    fn yaml_and_toml_agree() {
        let yaml = "mcm:\n  base_url: http://mcm:3001/api/\npoll:\n  period_seconds: 30\nkeys:\n  overlap_seconds: 3600\n";
        let from_yaml = Config::from_parts(Some((FileFormat::Yaml, yaml.as_bytes())), &[]).unwrap();
        let from_toml =
            toml("[mcm]\nbase_url = \"http://mcm:3001/api/\"\n[poll]\nperiod_seconds = 30\n[keys]\noverlap_seconds = 3600\n")
                .unwrap();
        assert_eq!(from_yaml.mcm.base_url, from_toml.mcm.base_url);
        assert_eq!(from_yaml.poll, from_toml.poll);
        assert_eq!(from_yaml.keys, from_toml.keys);
    }

    #[test]
    fn environment_overrides_file() {
        let config = Config::from_parts(
            Some((FileFormat::Toml, MINIMAL.as_bytes())),
            &env(&[
                ("KEYSYNC_POLL_PERIOD_SECONDS", "15"),
                ("KEYSYNC_MCM_BASE_URL", "https://other:443/api"),
                ("KEYSYNC_KEYS_VALIDATION_STATE", "trust"),
                ("KEYSYNC_SERVICE_HOST", "10.0.0.1"),
            ]),
        )
        .unwrap();
        assert_eq!(config.poll.period, Duration::from_secs(15));
        assert_eq!(config.mcm.base_url, "https://other:443/api");
        assert_eq!(config.keys.validation, ValidationPolicy::Trust);
    }

    #[test]
    fn environment_alone_is_enough() {
        let config =
            Config::from_parts(None, &env(&[("KEYSYNC_MCM_BASE_URL", "http://mcm/api")])).unwrap();
        assert_eq!(config.mcm.base_url, "http://mcm/api");
    }

    #[test]
    fn unknown_setting_is_named() {
        let err = toml("[mcm]\nbase_url = \"http://m/api\"\nperiod = 5\n").unwrap_err();
        assert!(err.message.contains("period"), "{err}");
    }

    #[test]
    fn missing_base_url_names_env_var() {
        let err = toml("").unwrap_err();
        assert_eq!(err.setting, "mcm.base_url");
        assert!(err.to_string().contains("KEYSYNC_MCM_BASE_URL"), "{err}");
    }

    #[test]
    fn bad_env_number_is_named() {
        let err = Config::from_parts(
            Some((FileFormat::Toml, MINIMAL.as_bytes())),
            &env(&[("KEYSYNC_POLL_PERIOD_SECONDS", "soon")]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "poll.period_seconds");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        for (text, setting) in [
            ("[poll]\nperiod_seconds = 0", "poll.period_seconds"),
            ("[poll]\njitter = 0.9", "poll.jitter"),
            ("[keys]\nmax_removal_share = 1.5", "keys.max_removal_share"),
            (
                "[keys]\nmax_keys_per_participant = 1",
                "keys.max_keys_per_participant",
            ),
            (
                "[keys]\nvalidation_state = \"maybe\"",
                "keys.validation_state",
            ),
            ("[listen]\naddress = \"localhost\"", "listen.address"),
            (
                "[tls]\nclient_cert_file = \"c.pem\"",
                "tls.client_cert_file",
            ),
        ] {
            let err = toml(&format!("{MINIMAL}{text}\n")).unwrap_err();
            assert_eq!(err.setting, setting, "{text}: {err}");
        }
    }

    #[test]
    fn cors_origins_normalised_like_browsers() {
        let expected = CorsOrigins::List(vec![
            "http://127.0.0.1:8731".to_owned(),
            "https://page.example".to_owned(),
        ]);
        for value in [
            "\"HTTP://127.0.0.1:8731, https://Page.example:443\"",
            "[\"http://127.0.0.1:8731\", \"https://page.example\"]",
        ] {
            let config = toml(&format!(
                "{MINIMAL}[listen]\ncors_allow_origins = {value}\n"
            ))
            .unwrap();
            assert_eq!(config.cors, expected, "{value}");
        }

        assert_eq!(
            expected.allow(Some("https://page.example")).as_deref(),
            Some("https://page.example")
        );
        assert_eq!(
            expected.allow(Some("HTTPS://PAGE.example:443")).as_deref(),
            Some("https://page.example")
        );
        assert_eq!(expected.allow(Some("https://evil.example")), None);
        assert_eq!(expected.allow(Some("null")), None);
        assert_eq!(expected.allow(None), None);
    }

    #[test]
    fn wrong_value_type_names_the_setting() {
        let err = toml(&format!("{MINIMAL}[listen]\ncors_allow_origins = 5\n")).unwrap_err();
        assert_eq!(err.setting, "listen.cors_allow_origins", "{err}");
        assert!(err.message.contains("comma-separated origins"), "{err}");

        let err = toml(&format!("{MINIMAL}[poll]\nperiod_seconds = \"soon\"\n")).unwrap_err();
        assert_eq!(err.setting, "poll.period_seconds", "{err}");
    }

    #[test]
    fn cors_star_and_empty_values() {
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            CorsOrigins::Any.allow(Some("https://x.example")).as_deref(),
            Some("*")
        );
        assert_eq!(CorsOrigins::parse(" , "), Ok(CorsOrigins::None));
        assert_eq!(CorsOrigins::None.allow(Some("http://127.0.0.1")), None);
    }

    #[test]
    fn cors_origin_with_path_rejected() {
        for value in [
            "http://127.0.0.1:8731/",
            "http://127.0.0.1:8731/v1/keys",
            "file://",
            "127.0.0.1:8731",
            "http://",
            "http://user@host",
            "*, http://a",
        ] {
            let err = Config::from_parts(
                Some((FileFormat::Toml, MINIMAL.as_bytes())),
                &env(&[("KEYSYNC_LISTEN_CORS_ALLOW_ORIGINS", value)]),
            )
            .unwrap_err();
            assert_eq!(err.setting, "listen.cors_allow_origins", "{value}: {err}");
            assert!(err.message.contains("is not an origin"), "{value}: {err}");
        }
        let many = vec!["http://a"; CorsOrigins::MAX_ORIGINS + 1].join(",");
        assert!(CorsOrigins::parse(&many).unwrap_err().contains("at most"));
    }

    #[test]
    fn auth_needs_id_and_secret() {
        let err = toml(&format!(
            "{MINIMAL}[auth]\ntoken_url = \"http://iam/token\"\nclient_id = \"keysync\"\n"
        ))
        .unwrap_err();
        assert_eq!(err.setting, "auth.client_secret");
        let config = toml(&format!(
            "{MINIMAL}[auth]\ntoken_url = \"http://iam/token\"\nclient_id = \"keysync\"\nclient_secret = \"s3cret\"\n"
        ))
        .unwrap();
        let auth = config.auth.unwrap();
        assert!(!format!("{auth:?}").contains("s3cret"));
    }

    #[test]
    fn secret_is_read_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let config = Config::from_parts(
            Some((FileFormat::Toml, MINIMAL.as_bytes())),
            &env(&[
                ("KEYSYNC_AUTH_TOKEN_URL", "http://iam/token"),
                ("KEYSYNC_AUTH_CLIENT_ID", "keysync"),
                ("KEYSYNC_AUTH_CLIENT_SECRET_FILE", path.to_str().unwrap()),
            ]),
        )
        .unwrap();
        assert_eq!(config.auth.unwrap().client_secret, "from-file");
    }

    #[test]
    fn deep_nesting_is_rejected_before_parsing() {
        let text = format!("x = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = toml(&text).unwrap_err();
        assert!(err.message.contains("nests"), "{err}");
    }

    #[test]
    fn yaml_aliases_are_rejected() {
        let yaml = "mcm: &a\n  base_url: http://m/api\nauth: *a\n";
        assert!(Config::from_parts(Some((FileFormat::Yaml, yaml.as_bytes())), &[]).is_err());
    }

    #[test]
    fn every_setting_has_an_env_var_that_loads() {
        let values: Vec<(String, String)> = SETTINGS
            .iter()
            .filter(|(path, ..)| !path.starts_with("auth.") && !path.starts_with("tls."))
            .map(|(path, kind, default, ..)| {
                let value = match (*path, kind) {
                    ("mcm.base_url", _) => "http://mcm/api".to_owned(),
                    ("mcm.dfsp_id", _) => "dfsp1".to_owned(),
                    ("state.file", _) => "/tmp/state.json".to_owned(),
                    ("output.pem_dir", _) => "/tmp/keys".to_owned(),
                    _ => (*default).to_owned(),
                };
                (env_name(path), value)
            })
            .collect();
        Config::from_parts(None, &values).unwrap();
    }
}
