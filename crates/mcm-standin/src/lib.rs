//! A stand-in for Mojaloop Connection Manager (connection-manager-api v3.4.0) and its
//! OAuth2 token endpoint, for tests. Loopback only.
//!
//! It serves the JWS key endpoints as the real MCM does: pretty-printed JSON with a
//! two-space indent, `application/json` on success and `application/json;
//! charset=utf-8` on validator and authentication errors, 200 for creates, members in
//! insertion order after a POST and in alphabetical order after a GET, `publicKey`
//! stored byte for byte, `validationState` VALID only for an RSA key in `PUBLIC KEY` or
//! `RSA PUBLIC KEY` armour, and `[]` (never 404) for an empty list.
//!
//! Fault knobs ([`StandIn`] methods) reproduce what real deployments served: entries
//! without `createdAt`, an empty list, a 401 that needs a fresh login, 5xx responses,
//! refused connections and slow responses. Damaged keys (single-line or CRLF PEM, EC
//! keys that MCM marks INVALID, certificates) are uploaded as real clients do, with
//! [`StandIn::put_key`] or a `POST`.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use fspiop_guard_core::crypto::KeyKind;
use fspiop_guard_core::keys::{self, KeyError, KeyFormat};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Number, Value};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

/// Path of the token endpoint, as Keycloak serves it for the `dfsps` realm.
pub const TOKEN_PATH: &str = "/realms/dfsps/protocol/openid-connect/token";

/// Largest request body read, in bytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

const JSON: &str = "application/json";
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Settings of a stand-in.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    /// Client id and secret the token endpoint accepts; `None` runs MCM without
    /// authentication, as `OPENID_ENABLED=false` does.
    pub client: Option<(String, String)>,
    /// MCM's `SWITCH_ID`, the participant id of the hub key.
    pub switch_id: String,
    /// `expires_in` of issued tokens, in seconds.
    pub token_lifetime_seconds: u64,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            client: None,
            switch_id: "switch".to_owned(),
            token_lifetime_seconds: 300,
        }
    }
}

/// Faults the stand-in injects.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Omit `createdAt` from every entry served.
    pub drop_created_at: bool,
    /// Serve `[]` for the key list whatever is stored.
    pub empty_list: bool,
    /// Respond to the next protected request with 401 and forget every token issued,
    /// so the client must log in again.
    pub reject_tokens_once: bool,
    /// Respond to every protected request with this status.
    pub server_error: Option<u16>,
    /// Wait this long before responding to a protected request.
    pub delay: Option<Duration>,
}

#[derive(Clone, Debug)]
struct Stored {
    public_key: String,
    created_at: Option<Number>,
    valid: bool,
    message: String,
}

#[derive(Debug, Default)]
struct State {
    dfsps: BTreeSet<String>,
    native: BTreeMap<String, Stored>,
    external: BTreeMap<String, Stored>,
    tokens: BTreeSet<String>,
    issued: u64,
    logins: u64,
    requests: Vec<String>,
    faults: Faults,
}

/// A running stand-in.
pub struct StandIn {
    address: SocketAddr,
    config: Arc<StandInConfig>,
    state: Arc<Mutex<State>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl StandIn {
    /// Starts a stand-in on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start(config: StandInConfig) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stand_in = StandIn {
            address: listener.local_addr()?,
            config: Arc::new(config),
            state: Arc::new(Mutex::new(State::default())),
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        stand_in.accept_on(listener);
        Ok(stand_in)
    }

    fn accept_on(&self, listener: TcpListener) {
        let config = Arc::clone(&self.config);
        let state = Arc::clone(&self.state);
        let tasks = Arc::clone(&self.tasks);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let config = Arc::clone(&config);
                let state = Arc::clone(&state);
                let connection = tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let config = Arc::clone(&config);
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(handle(&config, &state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut tasks = lock(&tasks);
                tasks.retain(|task| !task.is_finished());
                tasks.push(connection.abort_handle());
            }
        });
        lock(&self.tasks).push(accept.abort_handle());
    }

    /// Returns the MCM API base URL, `http://127.0.0.1:PORT/api`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api", self.address)
    }

    /// Returns the token endpoint URL.
    pub fn token_url(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Closes the port and every open connection, so clients get "connection refused".
    pub fn stop(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port after [`StandIn::stop`], with the same data.
    ///
    /// # Errors
    /// The port cannot be bound again.
    pub async fn restart(&self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.address).await?;
        self.accept_on(listener);
        Ok(())
    }

    /// Changes the faults.
    pub fn faults(&self) -> FaultsGuard<'_> {
        FaultsGuard(lock(&self.state))
    }

    /// Creates a DFSP without a key, as `POST /api/dfsps` does.
    pub fn create_dfsp(&self, dfsp_id: &str) {
        lock(&self.state).dfsps.insert(dfsp_id.to_owned());
    }

    /// Stores a key as `POST /api/dfsps/{id}/jwscerts` does, creating the DFSP first.
    pub fn put_key(&self, dfsp_id: &str, public_key: &str, created_at: Option<f64>) {
        let mut state = lock(&self.state);
        state.dfsps.insert(dfsp_id.to_owned());
        let created_at = created_at.and_then(Number::from_f64);
        state
            .native
            .insert(dfsp_id.to_owned(), stored(public_key, created_at));
    }

    /// Deletes a key as `DELETE /api/dfsps/{id}/jwscerts` does.
    pub fn remove_key(&self, dfsp_id: &str) {
        lock(&self.state).native.remove(dfsp_id);
    }

    /// Returns the stored `publicKey` text and `createdAt` of a native DFSP or the hub.
    pub fn stored_key(&self, dfsp_id: &str) -> Option<(String, Option<f64>)> {
        lock(&self.state).native.get(dfsp_id).map(|entry| {
            (
                entry.public_key.clone(),
                entry.created_at.as_ref().and_then(Number::as_f64),
            )
        })
    }

    /// Number of successful logins at the token endpoint.
    pub fn logins(&self) -> u64 {
        lock(&self.state).logins
    }

    /// Returns every request received, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Access to the [`Faults`] of a running stand-in.
pub struct FaultsGuard<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for FaultsGuard<'_> {
    type Target = Faults;
    fn deref(&self) -> &Faults {
        &self.0.faults
    }
}

impl std::ops::DerefMut for FaultsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Faults {
        &mut self.0.faults
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Validates a key as MCM does with node-forge: VALID only for an RSA key in
/// `PUBLIC KEY` or `RSA PUBLIC KEY` armour. Line-break damage is tolerated, as forge
/// tolerates it.
fn stored(public_key: &str, created_at: Option<Number>) -> Stored {
    let (valid, message) = match keys::parse_public_key(public_key) {
        Ok(parsed) => match (parsed.format, parsed.key.kind()) {
            (KeyFormat::SpkiPem | KeyFormat::Pkcs1Pem, KeyKind::Rsa { .. }) => {
                (true, String::new())
            }
            (KeyFormat::SpkiPem | KeyFormat::Pkcs1Pem, _) => {
                (false, "Cannot read public key. Unknown OID.".to_owned())
            }
            _ => (false, not_public_key_label()),
        },
        Err(KeyError::UnsupportedKeyType(_)) => {
            (false, "Cannot read public key. Unknown OID.".to_owned())
        }
        Err(KeyError::UnsupportedPemLabel(_)) => (false, not_public_key_label()),
        Err(_) => (false, "Invalid PEM formatted message.".to_owned()),
    };
    Stored {
        public_key: public_key.to_owned(),
        created_at,
        valid,
        message,
    }
}

fn not_public_key_label() -> String {
    "Could not convert public key from PEM; PEM header type is not \"PUBLIC KEY\" or \"RSA PUBLIC KEY\".".to_owned()
}

const VALIDATION_CODES: [&str; 2] = ["CERTIFICATE_VALIDITY", "CERTIFICATE_PUBLIC_KEY_LENGTH_2048"];

/// An entry as a POST returns it: members in insertion order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostEntry<'a> {
    dfsp_id: &'a str,
    public_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a Number>,
    validations: [PostValidation<'a>; 1],
    validation_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostValidation<'a> {
    validation_code: [&'static str; 2],
    performed: bool,
    result: &'static str,
    message: &'a str,
    data: BTreeMap<String, String>,
    message_template: &'static str,
}

/// An entry as a GET returns it: members in alphabetical order, as Vault returns them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a Number>,
    dfsp_id: &'a str,
    public_key: &'a str,
    validation_state: &'static str,
    validations: [GetValidation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetValidation<'a> {
    data: BTreeMap<String, String>,
    message: &'a str,
    message_template: &'static str,
    performed: bool,
    result: &'static str,
    validation_code: [&'static str; 2],
}

fn state_name(valid: bool) -> &'static str {
    if valid { "VALID" } else { "INVALID" }
}

fn post_entry<'a>(dfsp_id: &'a str, entry: &'a Stored) -> PostEntry<'a> {
    PostEntry {
        dfsp_id,
        public_key: &entry.public_key,
        created_at: entry.created_at.as_ref(),
        validations: [PostValidation {
            validation_code: VALIDATION_CODES,
            performed: true,
            result: state_name(entry.valid),
            message: &entry.message,
            data: BTreeMap::new(),
            message_template: "",
        }],
        validation_state: state_name(entry.valid),
    }
}

fn get_entry<'a>(dfsp_id: &'a str, entry: &'a Stored, drop_created_at: bool) -> GetEntry<'a> {
    GetEntry {
        created_at: entry.created_at.as_ref().filter(|_| !drop_created_at),
        dfsp_id,
        public_key: &entry.public_key,
        validation_state: state_name(entry.valid),
        validations: [GetValidation {
            data: BTreeMap::new(),
            message: &entry.message,
            message_template: "",
            performed: true,
            result: state_name(entry.valid),
            validation_code: VALIDATION_CODES,
        }],
    }
}

type Answer = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// An error body as MCM's validator and authentication handler write it:
/// `{message, errors: [{path, message, errorCode?}]}`, compact, in this member order.
#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    errors: [ErrorItem<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorItem<'a> {
    path: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
}

/// An application error body: `{payload: {id, message}, message}`, pretty-printed.
#[derive(Serialize)]
struct AppErrorBody<'a> {
    payload: AppErrorPayload<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct AppErrorPayload<'a> {
    id: &'a str,
    message: &'a str,
}

/// A `{payload, message}` body whose payload is an error name, as MCM writes an
/// unexpected `Error`.
#[derive(Serialize)]
struct PlainErrorBody<'a> {
    payload: &'a str,
    message: &'a str,
}

/// Builds an authentication or routing error.
fn route_error(status: u16, path: &str, message: &str) -> Answer {
    let body = ErrorBody {
        message,
        errors: [ErrorItem {
            path,
            message,
            error_code: None,
        }],
    };
    reply(
        status,
        JSON_UTF8,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// Builds a request validator error on a body member, in express-openapi-validator's words.
fn body_error(top: &str, member: &str, message: &str, error_code: &str) -> Answer {
    let body = ErrorBody {
        message: top,
        errors: [ErrorItem {
            path: member,
            message,
            error_code: Some(error_code),
        }],
    };
    reply(
        400,
        JSON_UTF8,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

fn app_error(status: u16, id: &str, message: &str) -> Answer {
    let body = AppErrorBody {
        payload: AppErrorPayload { id, message },
        message,
    };
    reply(status, JSON, pretty(&body))
}

fn plain_error(status: u16, message: &str) -> Answer {
    reply(
        status,
        JSON,
        pretty(&PlainErrorBody {
            payload: "Error",
            message,
        }),
    )
}

async fn handle(
    config: &StandInConfig,
    state: &Mutex<State>,
    request: Request<Incoming>,
) -> Answer {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    lock(state).requests.push(format!("{method} {path}"));
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return reply(413, JSON_UTF8, r#"{"message":"request entity too large"}"#),
    };

    if path == TOKEN_PATH && method == Method::POST {
        return token(config, state, &body);
    }
    if path == "/api/health" && method == Method::GET {
        return reply(
            200,
            JSON,
            pretty(&serde_json::json!({"status": "healthy", "database": "connected"})),
        );
    }

    let template = openapi_path(&path);
    let (delay, status_fault) = {
        let mut state = lock(state);
        if let Some(rejected) =
            authenticate(config, &mut state, authorization.as_deref(), &template)
        {
            return rejected;
        }
        (state.faults.delay, state.faults.server_error)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = status_fault {
        return plain_error(status, "stand-in fault: server error");
    }
    route(config, state, &method, &path, &body)
}

/// Returns the 401 response when the request may not pass, as MCM does with
/// `OPENID_ENABLED=true`.
fn authenticate(
    config: &StandInConfig,
    state: &mut State,
    authorization: Option<&str>,
    template: &str,
) -> Option<Answer> {
    config.client.as_ref()?;
    if std::mem::take(&mut state.faults.reject_tokens_once) {
        state.tokens.clear();
    }
    let token = authorization.and_then(|v| v.strip_prefix("Bearer "));
    if token.is_some_and(|t| state.tokens.contains(t)) {
        return None;
    }
    Some(route_error(401, template, "Authentication required"))
}

fn token(config: &StandInConfig, state: &Mutex<State>, body: &[u8]) -> Answer {
    let form: BTreeMap<String, String> = form_urlencoded(body);
    let Some((id, secret)) = &config.client else {
        return reply(400, JSON, r#"{"error":"unauthorized_client"}"#);
    };
    let valid = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(id)
        && form.get("client_secret") == Some(secret);
    if !valid {
        return reply(
            401,
            JSON,
            r#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#,
        );
    }
    let mut state = lock(state);
    state.issued += 1;
    state.logins += 1;
    let access_token = format!("standin-token-{}", state.issued);
    state.tokens.insert(access_token.clone());
    let body = serde_json::json!({
        "access_token": access_token,
        "expires_in": config.token_lifetime_seconds,
        "token_type": "Bearer",
        "scope": "profile email",
    });
    reply(200, JSON, body.to_string())
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form_urlencoded(body: &[u8]) -> BTreeMap<String, String> {
    let decode = |text: &str| -> String {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while let Some(&byte) = bytes.get(index) {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (byte, hex) {
                (b'%', Some(decoded)) => {
                    out.push(decoded);
                    index += 3;
                }
                _ => {
                    out.push(byte);
                    index += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Returns the OpenAPI path template that MCM names in errors.
fn openapi_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "api", "dfsps", id, "jwscerts"] if *id != "jwscerts" => {
            "/api/dfsps/{dfspId}/jwscerts".to_owned()
        }
        _ => path.to_owned(),
    }
}

fn route(
    config: &StandInConfig,
    state: &Mutex<State>,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Answer {
    let segments: Vec<&str> = path.split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["", "api", "dfsps", "jwscerts"]) => list(state),
        (&Method::GET, ["", "api", "dfsps", id, "jwscerts"]) => get_one(state, id),
        (&Method::POST, ["", "api", "dfsps", id, "jwscerts"]) => post_one(state, id, body, false),
        (&Method::DELETE, ["", "api", "dfsps", id, "jwscerts"]) => {
            let mut state = lock(state);
            if !state.dfsps.contains(*id) {
                return app_error(
                    404,
                    "NotFoundError",
                    &format!("DFSP with id {id} not found"),
                );
            }
            state.native.remove(*id);
            reply(200, JSON, "")
        }
        (_, ["", "api", "dfsps", _, "jwscerts"]) => {
            let message = format!("{method} method not allowed");
            route_error(405, path, &message)
        }
        (&Method::POST, ["", "api", "hub", "jwscerts"]) => {
            post_one(state, &config.switch_id, body, true)
        }
        (&Method::GET, ["", "api", "hub", "jwscerts"]) => get_one(state, &config.switch_id),
        (&Method::POST, ["", "api", "external-dfsps", "jwscerts"]) => post_external(state, body),
        // MCM without cert-manager, as the stand-in always is.
        (&Method::PUT, ["", "api", "hub", "jwscerts", "rotate"]) => {
            plain_error(500, "Hub JWS CertManager is not configured")
        }
        _ => route_error(404, path, "not found"),
    }
}

fn list(state: &Mutex<State>) -> Answer {
    let state = lock(state);
    if state.faults.empty_list {
        return reply(200, JSON, "[]");
    }
    let drop = state.faults.drop_created_at;
    let entries: Vec<GetEntry<'_>> = state
        .native
        .iter()
        .chain(state.external.iter())
        .map(|(id, entry)| get_entry(id, entry, drop))
        .collect();
    reply(200, JSON, pretty(&entries))
}

fn get_one(state: &Mutex<State>, id: &str) -> Answer {
    let state = lock(state);
    if !state.dfsps.contains(id) {
        return app_error(
            404,
            "NotFoundError",
            &format!("DFSP with id {id} not found"),
        );
    }
    match state.native.get(id) {
        Some(entry) => reply(
            200,
            JSON,
            pretty(&get_entry(id, entry, state.faults.drop_created_at)),
        ),
        None => app_error(404, "NotFoundError", ""),
    }
}

/// Reads a `BaseJWSCert` body, or returns MCM's error response for a bad one.
fn read_base_cert(body: &[u8]) -> Result<(String, Option<Number>), Box<Answer>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| Box::new(json_syntax_error(body)))?;
    let public_key = match value.get("publicKey") {
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            return Err(Box::new(body_error(
                "request.body.publicKey should be string",
                ".body.publicKey",
                "should be string",
                "type.openapi.validation",
            )));
        }
        None => {
            return Err(Box::new(body_error(
                "request.body should have required property 'publicKey'",
                ".body.publicKey",
                "should have required property 'publicKey'",
                "required.openapi.validation",
            )));
        }
    };
    let created_at = match value.get("createdAt") {
        None => None,
        Some(Value::Number(number)) => Some(number.clone()),
        Some(_) => {
            return Err(Box::new(body_error(
                "request.body.createdAt should be number",
                ".body.createdAt",
                "should be number",
                "type.openapi.validation",
            )));
        }
    };
    Ok((public_key, created_at))
}

/// Builds the 400 that Express's JSON parser returns, in V8's words.
fn json_syntax_error(body: &[u8]) -> Answer {
    let mut in_string = false;
    let mut escaped = false;
    for (position, &byte) in body.iter().enumerate() {
        if in_string && byte < 0x20 {
            let message =
                format!("Bad control character in string literal in JSON at position {position}");
            return reply(
                400,
                JSON_UTF8,
                serde_json::json!({ "message": message }).to_string(),
            );
        }
        match (in_string, escaped, byte) {
            (true, false, b'\\') => escaped = true,
            (true, true, _) => escaped = false,
            (_, _, b'"') => in_string = !in_string,
            _ => {}
        }
    }
    reply(
        400,
        JSON_UTF8,
        r#"{"message":"Unexpected end of JSON input"}"#,
    )
}

fn post_one(state: &Mutex<State>, id: &str, body: &[u8], create: bool) -> Answer {
    let (public_key, created_at) = match read_base_cert(body) {
        Ok(read) => read,
        Err(answer) => return *answer,
    };
    let mut state = lock(state);
    if create {
        state.dfsps.insert(id.to_owned());
    }
    if !state.dfsps.contains(id) {
        return app_error(
            404,
            "NotFoundError",
            &format!("DFSP with id {id} not found"),
        );
    }
    let entry = stored(&public_key, created_at);
    let answer = reply(200, JSON, pretty(&post_entry(id, &entry)));
    state.native.insert(id.to_owned(), entry);
    answer
}

fn post_external(state: &Mutex<State>, body: &[u8]) -> Answer {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return json_syntax_error(body);
    };
    if items.is_empty() {
        return app_error(400, "ValidationError", "Invalid body ");
    }
    let mut state = lock(state);
    let mut stored_entries = Vec::new();
    for item in &items {
        let (Some(id), Some(public_key)) = (
            item.get("dfspId").and_then(Value::as_str),
            item.get("publicKey").and_then(Value::as_str),
        ) else {
            continue;
        };
        if state.dfsps.contains(id) {
            continue;
        }
        let created_at = item
            .get("createdAt")
            .and_then(Value::as_number)
            .cloned()
            .unwrap_or_else(|| Number::from(0));
        let entry = stored(public_key, Some(created_at));
        state.external.insert(id.to_owned(), entry.clone());
        stored_entries.push((id.to_owned(), entry));
    }
    let answer: Vec<PostEntry<'_>> = stored_entries
        .iter()
        .map(|(id, e)| post_entry(id, e))
        .collect();
    reply(200, JSON, pretty(&answer))
}
