//! `keysync` and `publish-hub-key`: thin wrappers over the keysync crate.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fspiop_guard_keysync::config::TlsConfig;
use fspiop_guard_keysync::publish::PublishOptions;

#[derive(clap::Args)]
pub struct KeysyncArgs {
    /// Configuration file, TOML (*.toml) or YAML (*.yaml, *.yml). Every setting can also
    /// come from a KEYSYNC_* environment variable (docs/KEYSYNC.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Poll MCM once, write the state file and key directory, and exit: 0 when the
    /// poll succeeded, 1 when it failed.
    #[arg(long)]
    once: bool,
    /// Log level: error, warn, info or debug.
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

#[derive(clap::Args)]
pub struct PublishArgs {
    /// Certificate whose public key is the Hub's JWS key: cert-manager's tls.crt (the
    /// first PEM block is used), or an SPKI PEM.
    #[arg(long)]
    cert: PathBuf,
    /// MCM API base URL including /api, for example http://mcm-connection-manager-api:3001/api.
    #[arg(long)]
    mcm: String,
    /// Bearer token for MCM (visible in the process list; prefer --token-file).
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// File holding the bearer token for MCM.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// createdAt to send, in Unix seconds (default: now).
    #[arg(long)]
    created_at: Option<i64>,
    /// PEM CA bundle that signs the MCM ingress certificate (default: Mozilla roots).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// PEM client certificate chain for mTLS to the MCM ingress.
    #[arg(long, requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Timeout of each request to MCM, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout_seconds: u64,
}

/// Sends logs to standard error, with colours only when it is a terminal, so files and
/// `kubectl logs` get plain text.
fn init_logs(level: tracing::Level) {
    let colours = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colours)
        .with_max_level(level)
        .try_init();
}

pub fn run(args: KeysyncArgs) -> Result<ExitCode, String> {
    init_logs(args.log_level);
    match fspiop_guard_keysync::run(args.config.as_deref(), args.once) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(message) if args.once => {
            eprintln!("fspiop-guard keysync: {message}");
            Ok(ExitCode::from(1))
        }
        Err(message) => Err(message),
    }
}

pub fn run_publish(args: PublishArgs) -> Result<ExitCode, String> {
    init_logs(tracing::Level::WARN);
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => Some(token.trim().to_owned()),
        (None, Some(path)) => {
            let bytes = fspiop_guard_keysync::config::read_limited(path, 64 * 1024)
                .map_err(|e| format!("--token-file: {e}"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("--token-file {} is not UTF-8 text", path.display()))?;
            Some(text.trim().to_owned())
        }
        (None, None) => None,
    };
    let options = PublishOptions {
        cert: args.cert,
        mcm: args.mcm,
        token,
        created_at: args.created_at.unwrap_or_else(crate::time::now),
        tls: TlsConfig {
            ca_file: args.ca_file,
            client_cert_file: args.client_cert,
            client_key_file: args.client_key,
        },
        timeout: Duration::from_secs(args.timeout_seconds.clamp(1, 300)),
    };
    match fspiop_guard_keysync::publish(&options) {
        Ok(published) => {
            println!(
                "published hub key {} as participant {:?}; MCM returned the same key (validationState {})",
                published.kid, published.dfsp_id, published.validation_state
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("fspiop-guard publish-hub-key: {message}");
            Ok(ExitCode::from(1))
        }
    }
}
