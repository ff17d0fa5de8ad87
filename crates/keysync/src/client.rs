//! HTTP client for MCM and its OAuth2 token endpoint.
//!
//! TLS is rustls on the ring provider. Without `tls.ca_file` the Mozilla roots from
//! webpki-roots are trusted. A client certificate is sent when one is configured,
//! for an ingress that requires mTLS. Redirects are not followed, so a token is never
//! sent to another host. Connections are not reused between requests.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::config::{AuthConfig, McmConfig, TlsConfig};

/// Largest token endpoint response read, in bytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Largest part of an error body quoted in a message, in characters.
const MAX_QUOTED_BODY_CHARS: usize = 200;

/// Reason a request to MCM or the token endpoint failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No connection (refused, DNS, TLS handshake).
    Connect(String),
    /// No complete response within the timeout.
    Timeout(String),
    /// MCM responded with an error status.
    Status { status: u16, body: String },
    /// The token endpoint rejected the login or returned something unusable.
    Login(String),
    /// MCM still responded 401 or 403 after a fresh login.
    Unauthorized { status: u16, body: String },
    /// The response was larger than the limit.
    TooLarge { max: usize },
    /// Another I/O error while reading the response.
    Read(String),
}

impl FetchError {
    /// Returns a short label for the `reason` of a metric.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Connect(_) => "connect",
            FetchError::Timeout(_) => "timeout",
            FetchError::Status { .. } => "http_status",
            FetchError::Login(_) => "login",
            FetchError::Unauthorized { .. } => "unauthorized",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Read(_) => "read",
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Connect(detail) => write!(f, "cannot connect: {detail}"),
            FetchError::Timeout(url) => {
                write!(
                    f,
                    "no response from {url} within mcm.timeout_seconds; raise it or check MCM's load"
                )
            }
            FetchError::Status { status, body } => write!(f, "HTTP status {status}: {body}"),
            FetchError::Login(detail) => write!(f, "login failed: {detail}"),
            FetchError::Unauthorized { status, body } => write!(
                f,
                "HTTP status {status} even after a fresh login: {body}; check that the client has an MCM role that may read JWS keys (mta, pta or a DFSP group)"
            ),
            FetchError::TooLarge { max } => write!(
                f,
                "response is over the {max}-byte limit (mcm.max_response_bytes)"
            ),
            FetchError::Read(detail) => write!(f, "cannot read the response: {detail}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// Builds a reqwest client with rustls on ring and the configured trust and identity.
///
/// # Errors
/// A CA, certificate or key file cannot be read or parsed.
pub fn http_client(tls: &TlsConfig, timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("tls.ca_file {}: {e}", path.display()))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|e| format!("tls.ca_file {}: {e}", path.display()))?;
                roots
                    .add(certificate)
                    .map_err(|e| format!("tls.ca_file {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "tls.ca_file {} holds no CERTIFICATE block; give a PEM CA bundle",
                    path.display()
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }

    // NOTE: rustls 0.23.48 deprecates its ring provider because ring lacks the
    // post-quantum key exchange that the aws-lc-rs provider offers. ring stays the
    // only crypto crate of this workspace, so TLS to MCM uses classical X25519 and
    // NIST curves.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots);
    let config = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert_path), Some(key_path)) => {
            let chain = CertificateDer::pem_file_iter(cert_path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("tls.client_cert_file {}: {e}", cert_path.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "tls.client_cert_file {} holds no CERTIFICATE block",
                    cert_path.display()
                ));
            }
            let key = PrivateKeyDer::from_pem_file(key_path)
                .map_err(|e| format!("tls.client_key_file {}: {e}", key_path.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls.client_cert_file and tls.client_key_file: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };

    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        // One request a minute gains nothing from a pool, and a pooled connection that
        // an ingress closed while idle would fail the next poll.
        .pool_max_idle_per_host(0)
        .user_agent(concat!("fspiop-guard-keysync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client setup failed: {e}"))
}

/// Converts a reqwest error into a [`FetchError`] that names the URL.
pub fn send_error(error: &reqwest::Error, url: &str) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout(url.to_owned())
    } else if error.is_connect() {
        FetchError::Connect(format!("{url}: {}", error_chain(error)))
    } else {
        FetchError::Read(format!("{url}: {}", error_chain(error)))
    }
}

/// Joins an error and its sources, as reqwest's top-level message alone is vague.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads a response body of at most `max` bytes.
///
/// # Errors
/// The body is larger than `max`, or reading fails.
pub async fn read_body(
    mut response: reqwest::Response,
    max: usize,
    url: &str,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(FetchError::TooLarge { max });
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge { max });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => return Err(send_error(&error, url)),
        }
    }
}

/// Quotes the start of an error body for a log line.
pub fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut quoted: String = text.chars().take(MAX_QUOTED_BODY_CHARS).collect();
    if text.chars().count() > MAX_QUOTED_BODY_CHARS {
        quoted.push_str("...");
    }
    format!("{quoted:?}")
}

struct Token {
    access_token: String,
    /// When to log in again; `None` when the endpoint gave no lifetime.
    renew_at: Option<Instant>,
}

/// Client of MCM's JWS key list, with the OAuth2 login.
pub struct McmClient {
    http: reqwest::Client,
    mcm: McmConfig,
    auth: Option<AuthConfig>,
    token: Mutex<Option<Token>>,
}

impl McmClient {
    /// # Errors
    /// The TLS material cannot be loaded.
    pub fn new(
        mcm: McmConfig,
        auth: Option<AuthConfig>,
        tls: &TlsConfig,
    ) -> Result<McmClient, String> {
        Ok(McmClient {
            http: http_client(tls, mcm.timeout)?,
            mcm,
            auth,
            token: Mutex::new(None),
        })
    }

    /// Fetches `GET {base_url}/dfsps/jwscerts` and returns the body.
    ///
    /// Logs in first when a token is needed. A 401 or 403 drops the token, logs in
    /// again and retries once, as PM4ML does.
    ///
    /// # Errors
    /// See [`FetchError`].
    pub async fn fetch_jwscerts(&self) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/dfsps/jwscerts", self.mcm.base_url);
        let mut relogged = false;
        loop {
            let token = self.bearer_token().await?;
            let mut request = self
                .http
                .get(&url)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if let Some(dfsp_id) = &self.mcm.dfsp_id {
                request = request.header("X-DFSP-ID", dfsp_id);
            }
            let response = request.send().await.map_err(|e| send_error(&e, &url))?;
            let status = response.status();

            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                && self.auth.is_some()
            {
                let body = read_body(response, MAX_TOKEN_RESPONSE_BYTES, &url)
                    .await
                    .unwrap_or_default();
                if relogged {
                    return Err(FetchError::Unauthorized {
                        status: status.as_u16(),
                        body: quote_body(&body),
                    });
                }
                info!(
                    status = status.as_u16(),
                    body = %quote_body(&body),
                    "MCM rejected the access token; logging in again and retrying once"
                );
                *self.token.lock().await = None;
                relogged = true;
                continue;
            }
            if !status.is_success() {
                let body = read_body(response, MAX_TOKEN_RESPONSE_BYTES, &url)
                    .await
                    .unwrap_or_default();
                return Err(FetchError::Status {
                    status: status.as_u16(),
                    body: quote_body(&body),
                });
            }
            return read_body(response, self.mcm.max_response_bytes, &url).await;
        }
    }

    /// Returns a valid access token, logging in when there is none or it is about to
    /// expire; `None` when no login is configured.
    async fn bearer_token(&self) -> Result<Option<String>, FetchError> {
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref()
            && token.renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(Some(token.access_token.clone()));
        }
        let token = login(&self.http, auth).await?;
        let access = token.access_token.clone();
        *slot = Some(token);
        Ok(Some(access))
    }
}

/// Logs in with the client-credentials grant.
async fn login(http: &reqwest::Client, auth: &AuthConfig) -> Result<Token, FetchError> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", auth.client_id.as_str()),
        ("client_secret", auth.client_secret.as_str()),
    ];
    if let Some(scope) = &auth.scope {
        form.push(("scope", scope.as_str()));
    }
    let url = &auth.token_url;
    let response = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| match send_error(&e, url) {
            FetchError::Connect(detail) => {
                FetchError::Login(format!("cannot connect to the token endpoint: {detail}"))
            }
            other => other,
        })?;
    let status = response.status();
    let body = read_body(response, MAX_TOKEN_RESPONSE_BYTES, url).await?;

    if !status.is_success() {
        return Err(FetchError::Login(format!(
            "token endpoint {url} responded with HTTP status {}: {}; check auth.client_id and auth.client_secret",
            status.as_u16(),
            quote_body(&body)
        )));
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        FetchError::Login(format!(
            "token endpoint {url} returned something other than JSON: {e}"
        ))
    })?;
    let Some(access_token) = value.get("access_token").and_then(Value::as_str) else {
        return Err(FetchError::Login(format!(
            "token endpoint {url} returned no string access_token"
        )));
    };
    if access_token.is_empty() || !access_token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(FetchError::Login(format!(
            "token endpoint {url} returned an access_token that is not valid in a header"
        )));
    }

    let expires_in = value.get("expires_in").and_then(Value::as_f64);
    let renew_at = expires_in.map(|seconds| {
        let lifetime = Duration::from_secs_f64(seconds.clamp(0.0, 31_536_000.0));
        Instant::now() + lifetime.saturating_sub(auth.refresh_margin)
    });
    if expires_in.is_none() {
        warn!(url = %url, "token endpoint gave no expires_in; the token is used until MCM rejects it");
    }
    info!(url = %url, expires_in_seconds = expires_in.unwrap_or(-1.0), "logged in to the token endpoint");
    Ok(Token {
        access_token: access_token.to_owned(),
        renew_at,
    })
}
