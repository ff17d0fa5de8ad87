//! A keysync with an MCM stand-in, a manual clock, temporary files and captured logs.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_keysync::{Config, Keysync, ManualClock, Shared, server};
use mcm_standin::{StandIn, StandInConfig};
use tracing::subscriber::DefaultGuard;

/// 2026-12-04T12:00:00Z.
pub const T0: i64 = 1_796_385_600;
pub const HOUR: i64 = 3600;
pub const CLIENT_ID: &str = "keysync";
pub const CLIENT_SECRET: &str = "stand-in-secret";

/// Loads a key pair from the core crate's test keys.
pub fn signing_key(name: &str) -> SigningKey {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/keys")
        .join(name);
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SigningKey::from_pem(&pem).unwrap()
}

/// Reads a file of the core crate's test keys.
pub fn key_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn public_pem(name: &str) -> String {
    signing_key(name).public_key().to_pem()
}

pub fn kid_of(pem: &str) -> String {
    fspiop_guard_core::keys::parse_public_key(pem)
        .unwrap()
        .key
        .kid()
        .to_owned()
}

/// Log lines written while the guard lives, on this thread.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Logs, DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        (logs.clone(), tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Returns the lines at `level` that contain every one of `parts`.
    pub fn lines(&self, level: &str, parts: &[&str]) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(level) && parts.iter().all(|p| line.contains(p)))
            .map(str::to_owned)
            .collect()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// keysync against a stand-in.
pub struct Harness {
    pub standin: StandIn,
    pub keysync: Arc<Keysync>,
    pub shared: Arc<Shared>,
    pub clock: Arc<ManualClock>,
    pub address: SocketAddr,
    pub dir: tempfile::TempDir,
    pub settings: Vec<(String, String)>,
    server: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts a stand-in with OAuth2 enabled and a keysync that reads it, with extra
    /// `KEYSYNC_*` settings.
    pub async fn start(extra: &[(&str, &str)]) -> Harness {
        let standin = StandIn::start(StandInConfig {
            client: Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned())),
            ..StandInConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = vec![
            ("KEYSYNC_MCM_BASE_URL".to_owned(), standin.base_url()),
            ("KEYSYNC_MCM_TIMEOUT_SECONDS".to_owned(), "2".to_owned()),
            ("KEYSYNC_AUTH_TOKEN_URL".to_owned(), standin.token_url()),
            ("KEYSYNC_AUTH_CLIENT_ID".to_owned(), CLIENT_ID.to_owned()),
            (
                "KEYSYNC_AUTH_CLIENT_SECRET".to_owned(),
                CLIENT_SECRET.to_owned(),
            ),
            (
                "KEYSYNC_STATE_FILE".to_owned(),
                dir.path().join("state.json").display().to_string(),
            ),
            (
                "KEYSYNC_OUTPUT_PEM_DIR".to_owned(),
                dir.path().join("keys").display().to_string(),
            ),
            (
                "KEYSYNC_REFRESH_MIN_INTERVAL_SECONDS".to_owned(),
                "1".to_owned(),
            ),
            ("KEYSYNC_REFRESH_WAIT_MS".to_owned(), "3000".to_owned()),
        ];
        settings.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        let clock = Arc::new(ManualClock::new(T0));
        let (keysync, address, server) = start_keysync(&settings, &clock).await;
        Harness {
            standin,
            shared: keysync.shared(),
            keysync,
            clock,
            address,
            dir,
            settings,
            server,
        }
    }

    /// Replaces the keysync with a new one on the same files, as a restart does.
    pub async fn restart_keysync(&mut self) {
        self.server.abort();
        let (keysync, address, server) = start_keysync(&self.settings, &self.clock).await;
        self.shared = keysync.shared();
        self.keysync = keysync;
        self.address = address;
        self.server = server;
    }

    pub async fn poll(&self) -> Result<(), fspiop_guard_keysync::client::FetchError> {
        self.keysync.poll_once().await
    }

    /// Polls and panics on failure.
    pub async fn poll_ok(&self) {
        if let Err(error) = self.poll().await {
            panic!("poll failed: {error}");
        }
    }

    pub fn pem_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    /// Returns the kids that `GET /v1/keys` serves for a participant, in document order.
    pub async fn served_kids(&self, participant: &str) -> Vec<String> {
        let (status, _, body) = get(self.address, "/v1/keys", &[]).await;
        assert_eq!(status, 200, "{body}");
        let document: serde_json::Value = serde_json::from_str(&body).unwrap();
        document["participants"][participant]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .map(|k| k["kid"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Returns the value of one metric sample, matched by its name and labels as written.
    pub async fn metric(&self, sample: &str) -> Option<f64> {
        let (_, _, text) = get(self.address, "/metrics", &[]).await;
        metric_value(&text, sample)
    }
}

pub fn metric_value(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

async fn start_keysync(
    settings: &[(String, String)],
    clock: &Arc<ManualClock>,
) -> (Arc<Keysync>, SocketAddr, tokio::task::JoinHandle<()>) {
    let config = Config::from_parts(None, settings).unwrap();
    let keysync = Arc::new(Keysync::new(config, Arc::clone(clock) as _).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(server::serve(listener, keysync.shared()));
    (keysync, address, server)
}

/// Sends a GET over a fresh connection and returns status, headers and body.
pub async fn get(
    address: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    request(address, reqwest::Method::GET, path, headers).await
}

pub async fn request(
    address: SocketAddr,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let client = fspiop_guard_keysync::client::http_client(
        &fspiop_guard_keysync::config::TlsConfig::default(),
        Duration::from_secs(10),
    )
    .unwrap();
    let mut request = client.request(method, format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    (status, headers, body)
}

/// Returns the names of the files in a directory, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
