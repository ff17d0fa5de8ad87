//! `fspiop-guard`: verify, sign and inspect FSPIOP JWS signatures from the command line,
//! replay requests through the Envoy filter module, and run keysync.
//!
//! Exit codes: 0 valid (or success), 1 invalid (or, for `expiry`, an item needs
//! attention), 2 bad usage or unreadable input.

mod batch;
mod expiry;
mod inspect;
mod keydir;
mod keysync;
mod pki;
mod replay;
mod report;
mod time;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use fspiop_guard_core::http::{self, RequestLimits};
use fspiop_guard_core::sign::{self, SignBody, SignInput, SignerMode};
use fspiop_guard_core::{
    KeyStore, Profile, Request, RequestRules, RingVerifier, VerifyContext, json, verify,
};

/// Maximum request file size, in bytes.
const MAX_REQUEST_FILE_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Parser)]
#[command(
    name = "fspiop-guard",
    version,
    about = "Verify, sign and inspect Mojaloop FSPIOP JWS signatures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify the FSPIOP-Signature of a request and explain the verdict.
    Verify(VerifyArgs),
    /// Sign a request as the Mojaloop SDK does and print it.
    Sign(SignArgs),
    /// Decode an FSPIOP-Signature header, a request's signature, or a key.
    Inspect(inspect::InspectArgs),
    /// Run the Envoy filter module over recorded requests and print what it did.
    Replay(replay::ReplayArgs),
    /// Fetch the participants' JWS keys from MCM and serve them to every verifier.
    Keysync(keysync::KeysyncArgs),
    /// Publish the Hub's JWS public key to MCM from its certificate and read it back.
    PublishHubKey(keysync::PublishArgs),
    /// Verify a certificate chain to a CA: validity, purpose (EKU), keyUsage, key size,
    /// signature algorithm and name.
    Chain(pki::ChainArgs),
    /// Check a certificate request against the Hub's signing policy (MCM's rules).
    Csr(pki::CsrArgs),
    /// Report when each certificate, JWS key and JWT of the Hub <-> PM4ML links expires
    /// and how it is renewed.
    Expiry(expiry::ExpiryArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// Request file: raw HTTP/1.1 (as curl -v or a proxy log shows it), a HAR entry, or
    /// JSON {method, url, headers, body}.
    #[arg(long, required_unless_present = "batch")]
    request: Option<PathBuf>,
    /// Keys: a directory of <fspId>.pem files, one <fspId>.pem file, a JSON map
    /// {"<fspId>": "<PEM>" or [{"pem", "retire_after"}]}, or a key-set document.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Verification profile: mojaloop-sdk (what the SDK accepts), sdk-19.19, sdk-19.18
    /// or strict (FSPIOP spec).
    #[arg(long, default_value = "mojaloop-sdk")]
    profile: String,
    /// Verification time as RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Skip the diagnosis, which tries every known key and payload form to explain a
    /// rejection and to tell which SDK versions accept an accepted request.
    #[arg(long)]
    no_diagnosis: bool,
    /// Reject a body that repeats an object member (the signature may cover another value
    /// than a downstream parser reads).
    #[arg(long)]
    reject_duplicate_keys: bool,
    /// Reject a body with a number that an IEEE-754 double cannot hold exactly.
    #[arg(long)]
    reject_lossy_numbers: bool,
    /// With --profile strict, an ingress path prefix in front of FSPIOP paths (for example
    /// /fspiop); repeat for several.
    #[arg(long = "path-prefix", value_name = "PREFIX")]
    path_prefixes: Vec<String>,
    /// Apply sdk-scheme-adapter's request rules: only POST, PUT and PATCH need a
    /// signature, and PUT /parties/... does not unless --put-parties is given.
    #[arg(long)]
    request_rules: bool,
    /// With --request-rules, require a signature on PUT /parties/... too.
    #[arg(long, requires = "request_rules")]
    put_parties: bool,
    /// Read JSON lines {"id", "request", "keys"?} on standard input and print one verdict
    /// per line.
    #[arg(long, conflicts_with = "request")]
    batch: bool,
}

#[derive(clap::Args)]
struct SignArgs {
    /// Private key PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    #[arg(long, required_unless_present = "batch")]
    key: Option<PathBuf>,
    /// Request file to sign (raw HTTP or JSON); FSPIOP-Source must be set.
    #[arg(long, required_unless_present = "batch")]
    request: Option<PathBuf>,
    /// Signing path to reproduce: sdk-19.19, sdk-19.18 or get-signature.
    #[arg(long, default_value = "sdk-19.19")]
    mode: String,
    /// Algorithm (default: RS256 for RSA keys, ES256 for P-256 keys).
    #[arg(long)]
    alg: Option<String>,
    /// Sign the body text verbatim instead of re-serialising the parsed JSON.
    #[arg(long)]
    body_as_text: bool,
    /// Read JSON lines {"id", "mode", "key", "request"} on standard input and print one
    /// signed request per line.
    #[arg(long, conflicts_with_all = ["key", "request"])]
    batch: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => run_verify(args),
        Command::Sign(args) => run_sign(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Keysync(args) => keysync::run(args),
        Command::PublishHubKey(args) => keysync::run_publish(args),
        Command::Chain(args) => pki::run_chain(args),
        Command::Csr(args) => pki::run_csr(args),
        Command::Expiry(args) => expiry::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fspiop-guard: {message}");
            ExitCode::from(2)
        }
    }
}

/// Writes the finished output to standard output. A reader that stopped early (`| head`)
/// is not an error.
pub fn emit(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(format!("cannot write standard output: {error}")),
    }
}

/// Returns the built-in profile with this name, or an error listing the names.
pub fn profile_by_name(name: &str) -> Result<Profile, String> {
    Profile::by_name(name).ok_or_else(|| {
        format!(
            "unknown profile {name:?}; use one of: {}",
            Profile::BUILT_IN.join(", ")
        )
    })
}

/// Reads and parses a request file.
pub fn read_request(path: &Path) -> Result<Request, String> {
    if path.is_dir() {
        return Err(format!(
            "request file {} is a directory; give the file that holds one HTTP request",
            path.display()
        ));
    }
    let bytes = keydir::read_bytes_limited(path, MAX_REQUEST_FILE_BYTES)?;
    if bytes.trim_ascii_start().starts_with(b"HTTP/") {
        return Err(format!(
            "{} holds an HTTP response (it starts with a status line); give the request, \
             whose first line is METHOD PATH HTTP/1.1",
            path.display()
        ));
    }
    http::parse_request(&bytes, &RequestLimits::default())
        .map_err(|error| format!("cannot read request {}: {error}", path.display()))
}

fn run_verify(args: VerifyArgs) -> Result<ExitCode, String> {
    let mut profile = profile_by_name(&args.profile)?;
    profile.reject_duplicate_keys |= args.reject_duplicate_keys;
    profile.reject_lossy_numbers |= args.reject_lossy_numbers;
    profile
        .request_path_prefixes
        .extend(args.path_prefixes.iter().cloned());
    let now = match &args.at {
        Some(text) => time::parse_rfc3339(text)?,
        None => time::now(),
    };
    let mut keys = KeyStore::new();
    if let Some(path) = &args.keys {
        for note in keydir::load(path, &mut keys)? {
            eprintln!("key {}: {}", note.participant, note.text);
        }
    }

    if args.batch {
        return batch::verify_lines(&profile, &keys, now);
    }
    let Some(request_path) = &args.request else {
        return Err("give --request FILE, or --batch".to_owned());
    };
    if args.keys.is_none() {
        return Err("give --keys DIR|FILE with the participants' public keys".to_owned());
    }
    let request = read_request(request_path)?;

    let rules = args.request_rules.then(|| RequestRules {
        put_parties: args.put_parties,
        ..RequestRules::default()
    });
    let ctx = VerifyContext {
        profile: &profile,
        keys: &keys,
        rules: rules.as_ref(),
        now,
        crypto: &RingVerifier,
    };
    let verdict = verify(&request, &ctx);
    let diagnosis = (!args.no_diagnosis).then(|| {
        fspiop_guard_core::diagnose::diagnose(&request, &keys, now, &RingVerifier, &profile.limits)
    });

    let mut out = Vec::new();
    if args.json {
        let mut value = serde_json::to_value(&verdict).map_err(|e| e.to_string())?;
        if let (Some(diagnosis), Some(object)) = (&diagnosis, value.as_object_mut()) {
            let diagnosis = serde_json::to_value(diagnosis).map_err(|e| e.to_string())?;
            object.insert("diagnosis".to_owned(), diagnosis);
        }
        writeln!(out, "{value}").map_err(|e| e.to_string())?;
    } else {
        report::write_verdict(&mut out, &verdict, &profile, diagnosis.as_ref())
            .map_err(|e| e.to_string())?;
    }
    emit(&out)?;
    Ok(if verdict.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_sign(args: SignArgs) -> Result<ExitCode, String> {
    let mode = parse_mode(&args.mode)?;
    let alg = args.alg.as_deref().map(parse_alg).transpose()?;
    if args.batch {
        return batch::sign_lines();
    }
    let (Some(key_path), Some(request_path)) = (&args.key, &args.request) else {
        return Err("give --key PEM and --request FILE, or --batch".to_owned());
    };

    let pem = keydir::read_limited(key_path, 64 * 1024)?;
    let key = SigningKey::from_pem(&pem)
        .map_err(|error| format!("cannot use signing key {}: {error}", key_path.display()))?;
    let request = read_request(request_path)?;
    let text = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default()).into_owned();
    let body = if args.body_as_text {
        SignBody::Text(text.clone())
    } else {
        let parsed = json::parse(&text, &json::Limits::default()).map_err(|error| {
            format!("request body is not JSON ({error}); use --body-as-text to sign it verbatim")
        })?;
        SignBody::Json(parsed.value)
    };
    let input = SignInput {
        method: request.method.clone(),
        url: request.target.clone(),
        headers: request.headers.clone(),
        body,
    };
    let signed = sign::sign_request(&key, mode, alg, &input).map_err(|error| error.to_string())?;
    if !args.body_as_text && signed.body != text {
        eprintln!(
            "note: the body was re-serialised as the {} signer does; use --body-as-text to sign it as written",
            mode.name()
        );
    }
    if !Profile::mojaloop_sdk().algorithms.contains(&signed.alg) {
        eprintln!(
            "warning: {} is not accepted by the Mojaloop SDK validator (it accepts RS256 and ES256)",
            signed.alg.name()
        );
    }

    let mut out = Vec::new();
    let mut text = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in signed.headers.iter() {
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!(
        "Content-Length: {}\r\n\r\n{}",
        signed.body.len(),
        signed.body
    ));
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())?;
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Parses a signer mode name.
pub fn parse_mode(name: &str) -> Result<SignerMode, String> {
    SignerMode::from_name(name).ok_or_else(|| {
        format!("unknown signer mode {name:?}; use sdk-19.19, sdk-19.18 or get-signature")
    })
}

/// Parses an algorithm name.
pub fn parse_alg(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(name).ok_or_else(|| {
        format!("unknown algorithm {name:?}; use RS256, RS384, RS512, PS256, ES256 or ES384")
    })
}
