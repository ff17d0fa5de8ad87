//! `publish-hub-key`: publishes the Hub's JWS public key to MCM and checks that MCM
//! stores exactly that key.
//!
//! It replaces the Hub's openssl and curl job, which could send a PEM without line
//! breaks and no `createdAt`. The public key is taken from the certificate that
//! cert-manager writes (`tls.crt`), re-encoded as SPKI PEM with line breaks, and sent
//! as JSON built by serde_json, so the PEM's newlines are escaped correctly.

use std::path::PathBuf;
use std::time::Duration;

use fspiop_guard_core::keys::{self, KeyFormat};
use serde_json::Value;

use crate::client::{FetchError, http_client, quote_body, read_body, send_error};
use crate::config::{TlsConfig, read_limited};

/// Largest certificate file read, in bytes.
const MAX_CERT_FILE_BYTES: usize = 1024 * 1024;

/// Largest MCM response read, in bytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Options of `publish-hub-key`.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// PEM certificate (cert-manager's `tls.crt`; the first block is used) or SPKI PEM.
    pub cert: PathBuf,
    /// MCM API base URL including `/api`.
    pub mcm: String,
    /// Bearer token, when MCM requires one.
    pub token: Option<String>,
    /// `createdAt` to send, Unix seconds.
    pub created_at: i64,
    pub tls: TlsConfig,
    pub timeout: Duration,
}

/// The hub key entry as MCM stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The participant id MCM stored the key under (its `SWITCH_ID`).
    pub dfsp_id: String,
    pub kid: String,
    pub validation_state: String,
}

/// Publishes the key and reads it back.
///
/// # Errors
/// The certificate cannot be read, MCM rejects the upload, or MCM returns another key
/// than the one sent. The message names the step that failed.
pub async fn publish_hub_key(options: &PublishOptions) -> Result<Published, String> {
    let bytes = read_limited(&options.cert, MAX_CERT_FILE_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not PEM text", options.cert.display()))?;
    let parsed = keys::parse_public_key(&text).map_err(|e| {
        format!(
            "cannot read a public key from {}: {e}",
            options.cert.display()
        )
    })?;
    if !matches!(
        parsed.format,
        KeyFormat::CertificatePem | KeyFormat::SpkiPem | KeyFormat::Pkcs1Pem
    ) {
        return Err(format!(
            "{} holds a private key or JWK; give the certificate (tls.crt)",
            options.cert.display()
        ));
    }
    let public_key = parsed.key.to_pem();
    let kid = parsed.key.kid().to_owned();

    let http = http_client(&options.tls, options.timeout)?;
    let url = format!("{}/hub/jwscerts", options.mcm.trim_end_matches('/'));
    let body = serde_json::json!({ "publicKey": public_key, "createdAt": options.created_at });

    let mut post = http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body.to_string());
    if let Some(token) = &options.token {
        post = post.bearer_auth(token);
    }
    let stored = exchange(post, &url, "POST").await?;
    check_stored(&stored, &public_key, &kid, "POST")?;

    let mut get = http
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = &options.token {
        get = get.bearer_auth(token);
    }
    let read_back = exchange(get, &url, "GET").await?;
    check_stored(&read_back, &public_key, &kid, "GET")
}

async fn exchange(
    request: reqwest::RequestBuilder,
    url: &str,
    method: &str,
) -> Result<Value, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("{method} {url} failed: {}", send_error(&e, url)))?;
    let status = response.status();
    let body = read_body(response, MAX_RESPONSE_BYTES, url)
        .await
        .map_err(|e: FetchError| format!("{method} {url} failed: {e}"))?;
    if !status.is_success() {
        let hint = match status.as_u16() {
            401 => "; MCM needs a token with the mta or pta role (--token-file)",
            404 => "; check that --mcm ends in /api",
            _ => "",
        };
        return Err(format!(
            "{method} {url} responded with HTTP status {}: {}{hint}",
            status.as_u16(),
            quote_body(&body)
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|e| format!("{method} {url} returned something other than JSON: {e}"))
}

fn check_stored(stored: &Value, sent: &str, kid: &str, method: &str) -> Result<Published, String> {
    let Some(text) = stored.get("publicKey").and_then(Value::as_str) else {
        return Err(format!("MCM's {method} response has no publicKey string"));
    };
    let stored_kid = keys::parse_public_key(text)
        .map(|parsed| parsed.key.kid().to_owned())
        .map_err(|e| {
            format!("MCM's {method} response contains a publicKey that does not parse: {e}")
        })?;
    if stored_kid != kid {
        return Err(format!(
            "MCM's {method} response contains another key (fingerprint {stored_kid}) than the one sent ({kid}); another publisher may be writing the hub key"
        ));
    }
    if text != sent {
        return Err(format!(
            "MCM's {method} response contains the same key in other PEM text than was sent; MCM should store publicKey byte for byte, so check what is in front of it"
        ));
    }
    Ok(Published {
        dfsp_id: stored
            .get("dfspId")
            .and_then(Value::as_str)
            .unwrap_or("(missing)")
            .to_owned(),
        kid: kid.to_owned(),
        validation_state: stored
            .get("validationState")
            .and_then(Value::as_str)
            .unwrap_or("(missing)")
            .to_owned(),
    })
}
