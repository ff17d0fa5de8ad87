//! `fspiop-guard chain`, `fspiop-guard csr`, and `inspect` for certificates and CSRs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use fspiop_guard_core::pki::chain::{self, ChainPolicy, ChainReport, Usage};
use fspiop_guard_core::pki::csr::{self, CsrPolicy, CsrReport};
use fspiop_guard_core::pki::inspect::{CertificateInfo, inspect_certificate, inspect_csr};
use fspiop_guard_core::pki::pem::{self, BlockKind};
use fspiop_guard_core::pki::{PkiVerdict, Warning};

/// Largest certificate, bundle or CSR file read, in bytes (the core's bundle limit).
const MAX_PKI_FILE_BYTES: u64 = pem::MAX_BUNDLE_LEN as u64;

#[derive(clap::Args)]
pub struct ChainArgs {
    /// The certificate bundle to check: the leaf and its intermediates, PEM or DER, in any
    /// order.
    bundle: PathBuf,
    /// Trust anchors: the CA certificate(s) the chain must lead to (PEM or DER).
    #[arg(long = "ca", value_name = "FILE")]
    ca: PathBuf,
    /// The purpose the leaf must allow: client (PM4ML or Hub client certificate) or server.
    #[arg(long, default_value = "client")]
    usage: String,
    /// A DNS name or IP address that must be among the leaf's SANs.
    #[arg(long)]
    name: Option<String>,
    /// Policy preset: default (RSA from 2048 bits, every algorithm webpki verifies) or mcm
    /// (RSA from 4096 bits, sha256WithRSAEncryption only).
    #[arg(long, default_value = "default")]
    policy: String,
    /// Smallest RSA key accepted, in bits (overrides the preset).
    #[arg(long)]
    min_rsa_bits: Option<u32>,
    /// Check time as RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CsrArgs {
    /// The certificate request (PEM or DER).
    csr: PathBuf,
    /// Smallest RSA key accepted, in bits (MCM: 4096, or 2048 when PRIVATE_KEY_LENGTH is
    /// changed).
    #[arg(long, default_value_t = 4096)]
    min_rsa_bits: u32,
    /// A subject attribute that must be present (CN, O, OU, C, ST, L or E); repeat for
    /// several.
    #[arg(long = "require-subject", value_name = "FIELD")]
    required_subject_fields: Vec<String>,
    /// Replace the allowed signature algorithms (default: sha256WithRSAEncryption and
    /// sha512WithRSAEncryption); repeat for several.
    #[arg(long = "allow-signature-algorithm", value_name = "NAME")]
    signature_algorithms: Vec<String>,
    /// Accept EC and Ed25519 keys too (MCM accepts only RSA).
    #[arg(long)]
    any_key_type: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `chain`: exit 0 when the chain is valid, 1 when it is rejected.
pub fn run_chain(args: ChainArgs) -> Result<ExitCode, String> {
    let usage = Usage::from_name(&args.usage)
        .ok_or_else(|| format!("unknown usage {:?}; use client or server", args.usage))?;
    let mut policy = match args.policy.as_str() {
        "default" => ChainPolicy::new(usage),
        "mcm" => ChainPolicy::mcm(usage),
        other => return Err(format!("unknown policy {other:?}; use default or mcm")),
    };
    if let Some(bits) = args.min_rsa_bits {
        policy.min_rsa_bits = bits;
    }
    policy.expected_name = args.name;
    let now = match &args.at {
        Some(text) => crate::time::parse_rfc3339(text)?,
        None => crate::time::now(),
    };
    let bundle = crate::keydir::read_bytes_limited(&args.bundle, MAX_PKI_FILE_BYTES)?;
    let anchors = crate::keydir::read_bytes_limited(&args.ca, MAX_PKI_FILE_BYTES)?;
    let report = chain::verify_bundle(&bundle, &anchors, now, &policy);

    let mut out = Vec::new();
    if args.json {
        let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
    } else {
        write_chain(&mut out, &report).map_err(|e| e.to_string())?;
    }
    crate::emit(&out)?;
    Ok(exit_for(&report.verdict))
}

fn write_chain(out: &mut Vec<u8>, report: &ChainReport) -> std::io::Result<()> {
    write_verdict(out, &report.verdict)?;
    if report.path.is_empty() {
        if let Some(leaf) = &report.leaf {
            writeln!(out, "leaf")?;
            write_certificate(out, leaf, "  ")?;
        }
    } else {
        for (index, info) in report.path.iter().enumerate() {
            let role = match index {
                0 => "leaf",
                _ if index + 1 == report.path.len() => "trust anchor",
                _ => "intermediate",
            };
            writeln!(out, "{role}")?;
            write_certificate(out, info, "  ")?;
        }
    }
    write_warnings(out, &report.verdict.warnings)
}

/// Runs `csr`: exit 0 when the request meets the policy, 1 when it does not.
pub fn run_csr(args: CsrArgs) -> Result<ExitCode, String> {
    let mut policy = CsrPolicy {
        min_rsa_bits: args.min_rsa_bits,
        required_subject_fields: args.required_subject_fields,
        ..CsrPolicy::mcm()
    };
    for field in &policy.required_subject_fields {
        if !["CN", "O", "OU", "C", "ST", "L", "E"].contains(&field.as_str()) {
            return Err(format!(
                "unknown subject field {field:?}; use CN, O, OU, C, ST, L or E"
            ));
        }
    }
    if !args.signature_algorithms.is_empty() {
        policy.allowed_signature_algorithms = args.signature_algorithms;
    }
    if args.any_key_type {
        policy.allowed_key_types = vec![
            csr::CsrKeyType::Rsa,
            csr::CsrKeyType::Ec,
            csr::CsrKeyType::Ed25519,
        ];
    }
    let input = crate::keydir::read_bytes_limited(&args.csr, MAX_PKI_FILE_BYTES)?;
    let report = csr::check_csr(&input, &policy);

    let mut out = Vec::new();
    if args.json {
        let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
    } else {
        write_csr_report(&mut out, &report).map_err(|e| e.to_string())?;
    }
    crate::emit(&out)?;
    Ok(exit_for(&report.verdict))
}

fn write_csr_report(out: &mut Vec<u8>, report: &CsrReport) -> std::io::Result<()> {
    write_verdict(out, &report.verdict)?;
    if let Some(info) = &report.csr {
        writeln!(out, "request")?;
        let subject = if info.subject.is_empty() {
            "(empty)"
        } else {
            info.subject.as_str()
        };
        writeln!(out, "  subject     {}", printable(subject))?;
        writeln!(out, "  key         {}", info.key)?;
        writeln!(out, "  signature   {}", info.signature_algorithm)?;
        write_sans(out, &info.san, "  ")?;
        writeln!(out, "  spki sha256 {}", info.spki_sha256)?;
    }
    for check in &report.checks {
        let outcome = if check.passed { "pass" } else { "FAIL" };
        writeln!(
            out,
            "{outcome:<5} {:<36} {}",
            check.code,
            printable(&check.detail)
        )?;
    }
    write_warnings(out, &report.verdict.warnings)
}

/// Prints every certificate and CSR of a PEM or DER input (private keys are only named).
pub fn inspect_pki(input: &[u8], json: bool) -> Result<ExitCode, String> {
    let bundle = pem::read_bundle(input).map_err(|error| error.to_string())?;
    let mut out = Vec::new();
    let mut values = Vec::new();
    for block in &bundle.blocks {
        match block.kind {
            BlockKind::Certificate => {
                let info = inspect_certificate(&block.der)
                    .map_err(|error| format!("block on line {}: {error}", block.line))?;
                if json {
                    values.push(serde_json::json!({ "certificate": info }));
                } else {
                    writeln!(out, "certificate (line {})", block.line)
                        .map_err(|e| e.to_string())?;
                    write_certificate(&mut out, &info, "  ").map_err(|e| e.to_string())?;
                }
            }
            BlockKind::CertificateRequest => {
                let info = inspect_csr(&block.der)
                    .map_err(|error| format!("block on line {}: {error}", block.line))?;
                if json {
                    values.push(serde_json::json!({ "certificate_request": info }));
                } else {
                    writeln!(out, "certificate request (line {})", block.line)
                        .map_err(|e| e.to_string())?;
                    let subject = if info.subject.is_empty() {
                        "(empty)"
                    } else {
                        info.subject.as_str()
                    };
                    writeln!(out, "  subject     {}", printable(subject))
                        .map_err(|e| e.to_string())?;
                    writeln!(out, "  key         {}", info.key).map_err(|e| e.to_string())?;
                    writeln!(out, "  signature   {}", info.signature_algorithm)
                        .map_err(|e| e.to_string())?;
                    write_sans(&mut out, &info.san, "  ").map_err(|e| e.to_string())?;
                    writeln!(out, "  spki sha256 {}", info.spki_sha256)
                        .map_err(|e| e.to_string())?;
                }
            }
            BlockKind::PrivateKey => {
                if !json {
                    writeln!(out, "{} (line {}): not shown", block.label, block.line)
                        .map_err(|e| e.to_string())?;
                }
            }
            BlockKind::PublicKey | BlockKind::Other => {
                if !json {
                    writeln!(
                        out,
                        "{} (line {}): not a certificate",
                        block.label, block.line
                    )
                    .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    if json {
        let document = serde_json::json!({ "items": values, "warnings": bundle.warnings });
        writeln!(out, "{document}").map_err(|e| e.to_string())?;
    } else {
        write_warnings(&mut out, &bundle.warnings).map_err(|e| e.to_string())?;
    }
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn write_verdict(out: &mut Vec<u8>, verdict: &PkiVerdict) -> std::io::Result<()> {
    match verdict.reason {
        None => writeln!(out, "VALID    {}", printable(&verdict.detail)),
        Some(reason) => writeln!(
            out,
            "REJECTED {}: {}",
            reason.code(),
            printable(&verdict.detail)
        ),
    }
}

fn write_warnings(out: &mut Vec<u8>, warnings: &[Warning]) -> std::io::Result<()> {
    for warning in warnings {
        writeln!(
            out,
            "warning  {}: {}",
            warning.code,
            printable(&warning.detail)
        )?;
    }
    Ok(())
}

fn write_certificate(
    out: &mut Vec<u8>,
    info: &CertificateInfo,
    indent: &str,
) -> std::io::Result<()> {
    writeln!(out, "{indent}subject     {}", printable(&info.subject))?;
    writeln!(out, "{indent}issuer      {}", printable(&info.issuer))?;
    writeln!(out, "{indent}serial      {}", info.serial)?;
    writeln!(out, "{indent}version     v{}", info.version)?;
    writeln!(out, "{indent}not before  {}", info.not_before_text)?;
    writeln!(out, "{indent}not after   {}", info.not_after_text)?;
    writeln!(out, "{indent}key         {}", info.key)?;
    writeln!(out, "{indent}signature   {}", info.signature_algorithm)?;
    write_sans(out, &info.san, indent)?;
    if let Some(is_ca) = info.is_ca {
        writeln!(out, "{indent}CA          {is_ca}")?;
    }
    let key_usage = info
        .key_usage
        .as_ref()
        .map_or_else(|| "(absent)".to_owned(), |names| names.join(", "));
    writeln!(out, "{indent}key usage   {key_usage}")?;
    let extended = info.extended_key_usage.as_ref().map_or_else(
        || "(absent: any purpose)".to_owned(),
        |names| names.join(", "),
    );
    writeln!(out, "{indent}ext usage   {extended}")?;
    writeln!(out, "{indent}sha256      {}", info.sha256_fingerprint)?;
    writeln!(out, "{indent}spki sha256 {}", info.spki_sha256)
}

fn write_sans(
    out: &mut Vec<u8>,
    san: &fspiop_guard_core::pki::inspect::SubjectAltNames,
    indent: &str,
) -> std::io::Result<()> {
    let mut names: Vec<String> = san.dns.iter().map(|name| format!("DNS:{name}")).collect();
    names.extend(san.ip.iter().map(|ip| format!("IP:{ip}")));
    names.extend(san.uri.iter().map(|uri| format!("URI:{uri}")));
    names.extend(san.email.iter().map(|email| format!("email:{email}")));
    let text = if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    };
    writeln!(out, "{indent}SAN         {}", printable(&text))
}

fn exit_for(verdict: &PkiVerdict) -> ExitCode {
    if verdict.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Escapes control characters, so a hostile certificate cannot drive the terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
