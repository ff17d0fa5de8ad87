//! `fspiop-guard inspect`: decode a signature header, a request's signature, a key, or the
//! certificates and certificate requests of a PEM or DER file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use fspiop_guard_core::b64;
use fspiop_guard_core::crypto::KeyKind;
use fspiop_guard_core::header::SignatureHeader;
use fspiop_guard_core::keys;
use fspiop_guard_core::profile::Limits;

#[derive(clap::Args)]
pub struct InspectArgs {
    /// An FSPIOP-Signature value, or a file holding a key (PEM or JWK), a request, or a
    /// signature header.
    input: Option<String>,
    /// Inspect this key file.
    #[arg(long, conflicts_with = "input")]
    key: Option<PathBuf>,
    /// Inspect the FSPIOP-Signature of this request file.
    #[arg(long, conflicts_with_all = ["input", "key"])]
    request: Option<PathBuf>,
    /// Inspect the certificates and certificate requests of this file (PEM or DER).
    #[arg(long, conflicts_with_all = ["input", "key", "request"])]
    cert: Option<PathBuf>,
    /// With a certificate or certificate request, print JSON.
    #[arg(long)]
    json: bool,
}

/// PEM labels that `inspect` shows as certificates or certificate requests rather than
/// as the public key they carry.
const CERTIFICATE_MARKERS: [&str; 4] = [
    "-----BEGIN CERTIFICATE",
    "-----BEGIN TRUSTED CERTIFICATE",
    "-----BEGIN X509 CERTIFICATE",
    "-----BEGIN NEW CERTIFICATE REQUEST",
];

/// Runs `inspect`.
pub fn run(args: InspectArgs) -> Result<ExitCode, String> {
    if let Some(path) = &args.cert {
        let bytes = crate::keydir::read_bytes_limited(path, 1024 * 1024)?;
        return crate::pki::inspect_pki(&bytes, args.json);
    }
    if let Some(path) = &args.key {
        let text = crate::keydir::read_limited(path, 64 * 1024)?;
        return inspect_key(&text);
    }
    if let Some(path) = &args.request {
        let request = crate::read_request(path)?;
        let value = request
            .headers
            .get("fspiop-signature")
            .ok_or_else(|| format!("{} has no FSPIOP-Signature header", path.display()))?;
        return inspect_signature(&value);
    }
    let Some(input) = args.input else {
        return Err(
            "give an FSPIOP-Signature value, a file, --key FILE or --request FILE".to_owned(),
        );
    };

    let path = PathBuf::from(&input);
    let looks_like_path = !input.trim_start().starts_with('{')
        && !input.contains("-----BEGIN")
        && (input.contains('/')
            || input.ends_with(".pem")
            || input.ends_with(".http")
            || input.ends_with(".json"));
    if looks_like_path && !path.exists() {
        return Err(format!("file {input} not found"));
    }
    let text = if path.is_file() {
        crate::keydir::read_limited(&path, 1024 * 1024)?
    } else {
        strip_header_name(&input).to_owned()
    };
    let trimmed = text.trim_start();
    if CERTIFICATE_MARKERS
        .iter()
        .any(|marker| trimmed.contains(marker))
    {
        crate::pki::inspect_pki(text.as_bytes(), args.json)
    } else if trimmed.contains("-----BEGIN") || trimmed.contains("\"kty\"") {
        inspect_key(&text)
    } else if trimmed.starts_with('{') && !(path.is_file() && is_json_request(trimmed)) {
        inspect_signature(&text)
    } else if path.is_file() {
        let request = crate::read_request(&path)?;
        let value = request
            .headers
            .get("fspiop-signature")
            .ok_or_else(|| format!("{} has no FSPIOP-Signature header", path.display()))?;
        inspect_signature(&value)
    } else {
        Err("input is neither a key, an FSPIOP-Signature value nor a readable file".to_owned())
    }
}

/// Returns true when JSON text is a request in a form `read_request` reads (a JSON request
/// with `method`, a HAR entry with `request` or a HAR log with `log`), not an
/// FSPIOP-Signature value.
fn is_json_request(text: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(object)) => ["method", "request", "log"]
            .iter()
            .any(|member| object.contains_key(*member)),
        _ => false,
    }
}

fn inspect_key(text: &str) -> Result<ExitCode, String> {
    let parsed =
        keys::parse_public_key(text).map_err(|error| format!("not a usable key: {error}"))?;
    let key = &parsed.key;
    let mut out = Vec::new();
    let kind = match key.kind() {
        KeyKind::Rsa { bits } => format!("RSA {bits} bits"),
        KeyKind::Ec(curve) => format!("EC {curve:?}"),
    };
    let lines = [
        format!("format   {}", format_name(parsed.format)),
        format!("key      {kind}"),
        format!("kid      {} (base64url SHA-256 of the SPKI)", key.kid()),
    ];
    for line in lines {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    for repair in &parsed.repairs {
        writeln!(out, "repaired {repair}").map_err(|e| e.to_string())?;
    }
    for warning in &parsed.warnings {
        writeln!(out, "warning  {warning}").map_err(|e| e.to_string())?;
    }
    write!(out, "{}", key.to_pem()).map_err(|e| e.to_string())?;
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn inspect_signature(value: &str) -> Result<ExitCode, String> {
    let limits = Limits::default();
    let header = SignatureHeader::parse(value, &limits)
        .map_err(|error| format!("{}: {}", error.reason.code(), error.detail))?;
    let protected = header
        .protected(&limits)
        .map_err(|error| format!("{}: {}", error.reason.code(), error.detail))?;
    let signature_len = b64::decode(&header.signature_b64)
        .map(|s| s.len())
        .unwrap_or(0);

    let mut out = Vec::new();
    writeln!(out, "protected header").map_err(|e| e.to_string())?;
    for (name, value) in protected.object().iter() {
        writeln!(
            out,
            "  {:<20} {}",
            printable(&name.to_string_lossy()),
            printable(&fspiop_guard_core::header::display_value(value))
        )
        .map_err(|e| e.to_string())?;
    }
    writeln!(
        out,
        "signature            {signature_len} bytes ({} base64url characters)",
        header.signature_b64.len()
    )
    .map_err(|e| e.to_string())?;
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Removes a leading `FSPIOP-Signature:` header name from a pasted header line.
fn strip_header_name(input: &str) -> &str {
    let trimmed = input.trim();
    match trimmed.split_once(':') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("fspiop-signature") => value.trim(),
        _ => trimmed,
    }
}

/// Returns the human name of a key format.
fn format_name(format: keys::KeyFormat) -> &'static str {
    match format {
        keys::KeyFormat::SpkiPem => "SPKI PEM (BEGIN PUBLIC KEY)",
        keys::KeyFormat::Pkcs1Pem => "PKCS#1 PEM (BEGIN RSA PUBLIC KEY)",
        keys::KeyFormat::CertificatePem => "X.509 certificate PEM (public key taken from it)",
        keys::KeyFormat::PrivateKeyPem => "private key PEM (public half derived)",
        keys::KeyFormat::Jwk => "JWK",
        keys::KeyFormat::SpkiDer => "SPKI DER",
    }
}

/// Escapes control characters, so a hostile header cannot drive the terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}
