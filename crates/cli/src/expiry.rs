//! `fspiop-guard expiry`: when each certificate, JWS key and JWT of the Hub ↔ PM4ML links
//! expires, who renews it and how, as a table, JSON or a Prometheus textfile.
//!
//! Sources: PEM or DER files, Kubernetes manifests (a Secret's `tls.crt`, with the
//! cert-manager Certificate beside it for `renewBefore`), MCM's `GET /api/hub/ca` response
//! saved to a file or fetched over plain HTTP, MCM `jwscerts` JSON, and JWT files.
//!
//! Exit codes: 0 when every item checked is fine, 1 when one is expired, not yet valid,
//! past its renewal time or inside a threshold, 2 when a source cannot be read.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use fspiop_guard_core::jwt::read_times_unverified;
use fspiop_guard_core::keys::parse_public_key;
use fspiop_guard_core::pki::duration::parse_seconds;
use fspiop_guard_core::pki::expiry::{
    self, CertManagerSpec, Evidence, ExpiryRow, Item, Status, Thresholds,
};
use fspiop_guard_core::pki::inspect::{CertificateInfo, inspect_certificate};
use fspiop_guard_core::pki::pem;
use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::Value;

/// Largest source file or HTTP response read, in bytes.
const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

/// Deepest YAML nesting converted; Kubernetes manifests stay under ten levels.
const MAX_YAML_DEPTH: usize = 32;

/// Time allowed for connecting to MCM and for each read.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variable with a bearer token for MCM, sent when set.
const TOKEN_VARIABLE: &str = "FSPIOP_GUARD_MCM_TOKEN";

#[derive(clap::Args)]
pub struct ExpiryArgs {
    /// An item and its source, as ITEM=SOURCE; repeat for each. Items: pm4ml-server-cert,
    /// hub-client-cert, hub-server-cert, pm4ml-client-cert, hub-jws-key, pm4ml-jws-key,
    /// hub-jwt, hub-ca. A source is a file path, or for hub-ca an http:// URL of MCM's
    /// /api/hub/ca (a bearer token is taken from FSPIOP_GUARD_MCM_TOKEN). For an MCM
    /// jwscerts JSON array, append #DFSP_ID to pick an entry.
    #[arg(long = "item", value_name = "ITEM=SOURCE")]
    items: Vec<String>,
    /// A JSON inventory {"items": [{"item": ID, "source": PATH}]}; paths are relative to it.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Report time as RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Warn when fewer than this many days are left.
    #[arg(long, default_value_t = 30)]
    warn_days: i64,
    /// Warn when a JWS key is older than this many days (default: report the age only).
    #[arg(long)]
    jws_max_age_days: Option<i64>,
    /// Warn when a JWT has fewer than this many seconds left.
    #[arg(long, default_value_t = 300)]
    jwt_warn_seconds: i64,
    /// Print the rows as JSON.
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// Write the Prometheus text format to this file (through a temporary file and a
    /// rename, as node_exporter's textfile collector needs), or to standard output for -.
    #[arg(long, value_name = "FILE")]
    prometheus: Option<PathBuf>,
}

/// Runs `expiry`.
pub fn run(args: ExpiryArgs) -> Result<ExitCode, String> {
    let now = match &args.at {
        Some(text) => crate::time::parse_rfc3339(text)?,
        None => crate::time::now(),
    };
    let thresholds = Thresholds {
        warn_days: args.warn_days,
        jws_max_age_days: args.jws_max_age_days,
        jwt_warn_seconds: args.jwt_warn_seconds,
    };
    let mut sources: Vec<(Item, String, PathBuf)> = Vec::new();
    let current = PathBuf::from(".");
    for spec in &args.items {
        let (id, source) = spec
            .split_once('=')
            .ok_or_else(|| format!("--item {spec:?} is not ITEM=SOURCE"))?;
        sources.push((item_by_id(id)?, source.to_owned(), current.clone()));
    }
    if let Some(path) = &args.inventory {
        sources.extend(read_inventory(path)?);
    }
    if sources.is_empty() {
        return Err("give --item ITEM=SOURCE (repeatable) or --inventory FILE".to_owned());
    }

    let mut rows = Vec::new();
    for item in Item::ALL {
        let given: Vec<&(Item, String, PathBuf)> = sources
            .iter()
            .filter(|(candidate, _, _)| *candidate == item)
            .collect();
        if given.is_empty() && item != Item::HubCa {
            rows.push(expiry::evaluate(item, None, None, now, &thresholds));
        }
        for (_, source, base) in given {
            let evidence = read_evidence(item, source, base).unwrap_or_else(Evidence::Unreadable);
            rows.push(expiry::evaluate(
                item,
                Some(source.clone()),
                Some(&evidence),
                now,
                &thresholds,
            ));
        }
    }

    let mut out = Vec::new();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
        crate::emit(&out)?;
    } else if let Some(path) = &args.prometheus {
        let text = expiry::prometheus(&rows, now);
        if path.as_os_str() == "-" {
            crate::emit(text.as_bytes())?;
        } else {
            write_atomically(path, &text)?;
        }
    } else {
        write_table(&mut out, &rows, now).map_err(|e| e.to_string())?;
        crate::emit(&out)?;
    }

    Ok(if rows.iter().any(|row| row.status == Status::Error) {
        ExitCode::from(2)
    } else if rows.iter().any(|row| row.status.alerts()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn item_by_id(id: &str) -> Result<Item, String> {
    Item::from_id(id.trim()).ok_or_else(|| {
        let ids: Vec<&str> = Item::ALL.iter().map(|item| item.id()).collect();
        format!("unknown item {id:?}; use one of: {}", ids.join(", "))
    })
}

fn read_inventory(path: &Path) -> Result<Vec<(Item, String, PathBuf)>, String> {
    let text = crate::keydir::read_limited(path, MAX_SOURCE_BYTES)?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|error| format!("inventory {} is not JSON: {error}", path.display()))?;
    let base = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let items = document
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("inventory {} has no \"items\" array", path.display()))?;
    let mut sources = Vec::new();
    for (index, entry) in items.iter().enumerate() {
        let id = entry.get("item").and_then(Value::as_str);
        let source = entry.get("source").and_then(Value::as_str);
        let (Some(id), Some(source)) = (id, source) else {
            return Err(format!(
                "inventory {} item {} needs \"item\" and \"source\" strings",
                path.display(),
                index + 1
            ));
        };
        sources.push((item_by_id(id)?, source.to_owned(), base.clone()));
    }
    Ok(sources)
}

/// Reads the evidence a source gives for an item; an error names the source.
fn read_evidence(item: Item, source: &str, base: &Path) -> Result<Evidence, String> {
    let (location, fragment) = match source.split_once('#') {
        Some((location, fragment)) => (location, Some(fragment)),
        None => (source, None),
    };
    let bytes = if location.starts_with("http://") || location.starts_with("https://") {
        http_get(location)?
    } else {
        let path = base.join(location);
        crate::keydir::read_bytes_limited(&path, MAX_SOURCE_BYTES)?
    };
    match item {
        Item::HubJwt => {
            let text = String::from_utf8_lossy(&bytes);
            let times = read_times_unverified(text.trim()).map_err(|error| error.to_string())?;
            Ok(Evidence::Token {
                exp: times.exp,
                issued_at: times.iat,
                subject: times.sub.or(times.iss),
            })
        }
        Item::HubJwsKey | Item::Pm4mlJwsKey => read_jws_key(&bytes, fragment),
        Item::HubCa => {
            let found = read_certificates(&bytes)?;
            let info = found
                .certificates
                .into_iter()
                .filter(|info| info.is_ca == Some(true) || info.self_issued)
                .min_by_key(|info| info.not_after)
                .ok_or_else(|| "the source contains no CA certificate".to_owned())?;
            Ok(Evidence::Certificate {
                info: Box::new(info),
                cert_manager: None,
            })
        }
        _ => {
            let found = read_certificates(&bytes)?;
            let leaf = found
                .certificates
                .iter()
                .find(|info| info.is_ca != Some(true))
                .or(found.certificates.first())
                .cloned()
                .ok_or_else(|| "the source contains no certificate".to_owned())?;
            Ok(Evidence::Certificate {
                info: Box::new(leaf),
                cert_manager: found.cert_manager,
            })
        }
    }
}

/// Certificates found in a source, and cert-manager's spec when a manifest had one.
struct Found {
    certificates: Vec<CertificateInfo>,
    cert_manager: Option<CertManagerSpec>,
}

fn read_certificates(bytes: &[u8]) -> Result<Found, String> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    let structured = trimmed.starts_with('{') || trimmed.starts_with('[');
    if !structured && (trimmed.contains("-----BEGIN") || bytes.first() == Some(&0x30)) {
        return Ok(Found {
            certificates: certificates_of(bytes)?,
            cert_manager: None,
        });
    }
    let documents = parse_documents(&text)?;
    let mut pems = Vec::new();
    let mut cert_manager = None;
    for document in &documents {
        collect_objects(document, &mut pems, &mut cert_manager)?;
    }
    if pems.is_empty() {
        return Err(
            "no certificate found: expected PEM, a Secret with tls.crt, or MCM's hub CA response"
                .to_owned(),
        );
    }
    let mut certificates = Vec::new();
    for pem_text in pems {
        certificates.extend(certificates_of(pem_text.as_bytes())?);
    }
    Ok(Found {
        certificates,
        cert_manager,
    })
}

fn certificates_of(bytes: &[u8]) -> Result<Vec<CertificateInfo>, String> {
    let bundle = pem::read_bundle(bytes).map_err(|error| error.to_string())?;
    let mut certificates = Vec::new();
    for der in bundle.certificates() {
        certificates.push(inspect_certificate(der).map_err(|error| error.to_string())?);
    }
    if certificates.is_empty() {
        return Err(format!(
            "no certificate found (PEM labels seen: [{}])",
            bundle.labels().join(", ")
        ));
    }
    Ok(certificates)
}

/// Parses JSON, or YAML with one or more documents, into JSON values.
fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str(text)
            .map(|value| vec![value])
            .map_err(|error| format!("not JSON: {error}"));
    }
    let documents = Yaml::load_from_str(text).map_err(|error| format!("not YAML: {error}"))?;
    documents
        .iter()
        .map(|document| yaml_to_json(document, 0))
        .collect()
}

fn yaml_to_json(node: &Yaml, depth: usize) -> Result<Value, String> {
    if depth > MAX_YAML_DEPTH {
        return Err(format!(
            "YAML is nested deeper than {MAX_YAML_DEPTH} levels"
        ));
    }
    Ok(match node {
        Yaml::Value(scalar) => match scalar {
            Scalar::Null => Value::Null,
            Scalar::Boolean(flag) => Value::Bool(*flag),
            Scalar::Integer(number) => Value::from(*number),
            Scalar::FloatingPoint(number) => {
                serde_json::Number::from_f64(number.0).map_or(Value::Null, Value::Number)
            }
            Scalar::String(text) => Value::String(text.to_string()),
        },
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .map(|item| yaml_to_json(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, value) in mapping {
                if let Some(key) = key.as_str() {
                    object.insert(key.to_owned(), yaml_to_json(value, depth + 1)?);
                }
            }
            Value::Object(object)
        }
        Yaml::Tagged(_, inner) => yaml_to_json(inner, depth + 1)?,
        Yaml::Alias(_) => return Err("YAML aliases are not read; expand them".to_owned()),
        Yaml::Representation(..) | Yaml::BadValue => Value::Null,
    })
}

/// Collects certificate PEM text from Secrets and MCM responses, and the first
/// cert-manager Certificate spec, walking `kind: List` items.
fn collect_objects(
    value: &Value,
    pems: &mut Vec<String>,
    cert_manager: &mut Option<CertManagerSpec>,
) -> Result<(), String> {
    if let Some(items) = value.get("items").and_then(Value::as_array) {
        for item in items {
            collect_objects(item, pems, cert_manager)?;
        }
        return Ok(());
    }
    if let Some(items) = value.as_array() {
        for item in items {
            collect_objects(item, pems, cert_manager)?;
        }
        return Ok(());
    }
    match value.get("kind").and_then(Value::as_str) {
        Some("Secret") => {
            if let Some(text) = value.pointer("/stringData/tls.crt").and_then(Value::as_str) {
                pems.push(text.to_owned());
            } else if let Some(encoded) = value.pointer("/data/tls.crt").and_then(Value::as_str) {
                use base64::Engine as _;
                let compact: String = encoded.split_whitespace().collect();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|error| format!("Secret data tls.crt is not base64: {error}"))?;
                pems.push(String::from_utf8_lossy(&decoded).into_owned());
            }
        }
        Some("Certificate") if cert_manager.is_none() => {
            *cert_manager = Some(cert_manager_spec(value)?);
        }
        _ => {
            for field in ["rootCertificate", "intermediateChain"] {
                if let Some(text) = value.get(field).and_then(Value::as_str)
                    && !text.trim().is_empty()
                {
                    pems.push(text.to_owned());
                }
            }
        }
    }
    Ok(())
}

fn cert_manager_spec(certificate: &Value) -> Result<CertManagerSpec, String> {
    let duration = |field: &str| -> Result<Option<i64>, String> {
        match certificate
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_str)
        {
            Some(text) => parse_seconds(text)
                .map(Some)
                .map_err(|error| format!("Certificate spec.{field}: {error}")),
            None => Ok(None),
        }
    };
    Ok(CertManagerSpec {
        name: certificate
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        duration: duration("duration")?,
        renew_before: duration("renewBefore")?,
        renew_before_percentage: certificate
            .pointer("/spec/renewBeforePercentage")
            .and_then(Value::as_i64),
        renewal_disabled: certificate
            .pointer("/spec/renewal/policy")
            .and_then(Value::as_str)
            == Some("Disabled"),
    })
}

/// Reads a JWS public key: a PEM key, a certificate carrying it (its notBefore is the
/// publication time), a Secret, or MCM's jwscerts JSON with `createdAt`.
fn read_jws_key(bytes: &[u8], fragment: Option<&str>) -> Result<Evidence, String> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let document: Value =
            serde_json::from_str(&text).map_err(|error| format!("not JSON: {error}"))?;
        let entries: Vec<&Value> = match &document {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let entry = match fragment {
            Some(id) => entries
                .into_iter()
                .find(|entry| entry.get("dfspId").and_then(Value::as_str) == Some(id))
                .ok_or_else(|| format!("no jwscerts entry has dfspId {id:?}"))?,
            None => entries
                .into_iter()
                .next()
                .ok_or_else(|| "the jwscerts array is empty".to_owned())?,
        };
        if entry.get("publicKey").is_some() {
            let pem_text = entry
                .get("publicKey")
                .and_then(Value::as_str)
                .ok_or_else(|| "publicKey is not a string".to_owned())?;
            let key = parse_public_key(pem_text).map_err(|error| error.to_string())?;
            let published = entry
                .get("createdAt")
                .and_then(Value::as_f64)
                .filter(|at| *at > 0.0);
            return Ok(Evidence::Key {
                kid: key.key.kid().to_owned(),
                published: published.map(|at| at as i64),
            });
        }
    }
    if trimmed.contains("BEGIN CERTIFICATE") || !trimmed.contains("-----BEGIN") {
        let found = read_certificates(bytes)?;
        let info = found
            .certificates
            .first()
            .ok_or_else(|| "no certificate found".to_owned())?;
        let pem_text = certificate_pem(bytes, &found)?;
        let key = parse_public_key(&pem_text).map_err(|error| error.to_string())?;
        return Ok(Evidence::Key {
            kid: key.key.kid().to_owned(),
            published: Some(info.not_before),
        });
    }
    let key = parse_public_key(&text).map_err(|error| error.to_string())?;
    Ok(Evidence::Key {
        kid: key.key.kid().to_owned(),
        published: None,
    })
}

/// Returns the PEM of the first certificate of a source, for the key parser.
fn certificate_pem(bytes: &[u8], found: &Found) -> Result<String, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN CERTIFICATE") {
        return Ok(text.into_owned());
    }
    let documents = parse_documents(&text)?;
    let mut pems = Vec::new();
    let mut ignored = found.cert_manager.clone();
    for document in &documents {
        collect_objects(document, &mut pems, &mut ignored)?;
    }
    pems.into_iter()
        .next()
        .ok_or_else(|| "no certificate found".to_owned())
}

/// Fetches an http:// URL with a minimal HTTP/1.1 GET; https is not supported.
fn http_get(url: &str) -> Result<Vec<u8>, String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "{url}: https is not supported here; fetch it with curl (with your token) and pass \
             the saved JSON file instead"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => (
            rest.get(..slash).unwrap_or_default(),
            rest.get(slash..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let socket = address
        .to_socket_addrs()
        .map_err(|error| format!("{url}: cannot resolve {authority}: {error}"))?
        .next()
        .ok_or_else(|| format!("{url}: {authority} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, HTTP_TIMEOUT)
        .map_err(|error| format!("{url}: connection failed: {error}"))?;
    stream
        .set_read_timeout(Some(HTTP_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(HTTP_TIMEOUT)))
        .map_err(|error| format!("{url}: {error}"))?;

    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    if let Ok(token) = std::env::var(TOKEN_VARIABLE) {
        request.push_str(&format!("Authorization: Bearer {}\r\n", token.trim()));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("{url}: sending the request failed: {error}"))?;

    let mut response = Vec::new();
    stream
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut response)
        .map_err(|error| format!("{url}: reading the response failed or timed out: {error}"))?;
    if response.len() as u64 > MAX_SOURCE_BYTES {
        return Err(format!(
            "{url}: the response is over {MAX_SOURCE_BYTES} bytes"
        ));
    }

    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: the response has no header end"))?;
    let head = String::from_utf8_lossy(response.get(..split).unwrap_or_default()).into_owned();
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{url}: MCM returned {status_line:?}, expected 200"));
    }
    if head.lines().any(|line| {
        line.to_ascii_lowercase().starts_with("transfer-encoding:")
            && line.to_ascii_lowercase().contains("chunked")
    }) {
        return Err(format!(
            "{url}: chunked responses are not read; save the response with curl"
        ));
    }
    Ok(response.get(split + 4..).unwrap_or_default().to_vec())
}

fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let temporary = path.with_extension("prom.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn write_table(out: &mut Vec<u8>, rows: &[ExpiryRow], now: i64) -> std::io::Result<()> {
    writeln!(
        out,
        "expiry report at {}",
        fspiop_guard_core::rfc3339::format(now)
    )?;
    writeln!(
        out,
        "{:<35} {:<12} {:<21} {:>9}  {:<16} {:<29} {:<13} renewal / note",
        "item", "direction", "expires", "days left", "managed by", "rotation method", "status"
    )?;
    for row in rows {
        let expires = row.expires_text.clone().unwrap_or_else(|| {
            if row.item.expires() {
                "-".to_owned()
            } else {
                "no expiry".to_owned()
            }
        });
        let days = row
            .days_left
            .map_or_else(|| "-".to_owned(), |days| days.to_string());
        let mut notes = Vec::new();
        if let Some(renewal) = &row.renewal {
            let due = if renewal.due { ", due" } else { "" };
            notes.push(format!(
                "renews {} ({}{due})",
                renewal.at_text, renewal.rule
            ));
        }
        if !row.note.is_empty() {
            notes.push(row.note.clone());
        }
        if let Some(subject) = &row.subject {
            notes.push(crate::pki::printable(subject));
        }
        writeln!(
            out,
            "{:<35} {:<12} {:<21} {:>9}  {:<16} {:<29} {:<13} {}",
            row.label,
            row.direction,
            expires,
            days,
            row.managed_by,
            row.rotation_method,
            row.status.name(),
            crate::pki::printable(&notes.join("; "))
        )?;
    }
    Ok(())
}
