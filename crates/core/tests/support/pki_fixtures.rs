//! Builds the PKI test cases: certificates with rcgen, and with the openssl CLI the ones
//! rcgen refuses to make (X.509 v1, SHA-1 signatures, 1024-bit RSA).
//!
//! RSA keys come from `tests/fixtures/pki/keys` (throwaway keys made with `openssl
//! genpkey`), because ring cannot generate RSA keys and a 4096-bit key takes seconds to
//! make. EC keys are generated on each run. Every validity period is fixed, and every
//! case is checked at [`AT`], so the expected reason never depends on the day it runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use serde_json::{Value, json};

/// Check time of every case: 2026-05-13T14:39:12Z.
pub const AT: i64 = 1_778_683_152;
pub const AT_TEXT: &str = "2026-05-13T14:39:12Z";

/// The folder of the committed RSA keys.
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pki/keys")
}

/// Loads a committed RSA key for signing with SHA-256.
pub fn rsa_key(name: &str) -> KeyPair {
    let pem = std::fs::read_to_string(keys_dir().join(format!("{name}.key.pem"))).unwrap();
    KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap()
}

pub fn ec_key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

/// Reports whether the openssl CLI runs; cases that need it are skipped otherwise.
pub fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success())
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// A CA with its parameters and key, to issue with.
pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
}

impl Ca {
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2035, 1, 1);
    params
}

pub fn root(common_name: &str, key: KeyPair) -> Ca {
    let params = ca_params(common_name);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

pub fn intermediate(common_name: &str, key: KeyPair, parent: &Ca) -> Ca {
    let params = ca_params(common_name);
    let pem = params.signed_by(&key, &parent.issuer()).unwrap().pem();
    Ca { params, key, pem }
}

/// Parameters of an end-entity certificate.
pub struct Leaf {
    pub common_name: &'static str,
    pub dns: Vec<&'static str>,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub from: (i32, u8, u8),
    pub to: (i32, u8, u8),
    pub is_ca: bool,
}

impl Leaf {
    pub fn client(common_name: &'static str) -> Self {
        Leaf {
            common_name,
            dns: Vec::new(),
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            from: (2026, 1, 1),
            to: (2027, 1, 1),
            is_ca: false,
        }
    }

    pub fn server(dns: &'static str) -> Self {
        Leaf {
            common_name: dns,
            dns: vec![dns],
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            ..Leaf::client(dns)
        }
    }

    pub fn issue(&self, key: &KeyPair, issuer: &Ca) -> String {
        let names: Vec<String> = self.dns.iter().map(|dns| (*dns).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name = name(self.common_name);
        params.extended_key_usages = self.eku.clone();
        params.key_usages = self.key_usages.clone();
        params.not_before = date_time_ymd(self.from.0, self.from.1, self.from.2);
        params.not_after = date_time_ymd(self.to.0, self.to.1, self.to.2);
        if self.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        if self.dns.is_empty() {
            params.subject_alt_names = Vec::<SanType>::new();
        }
        params.signed_by(key, &issuer.issuer()).unwrap().pem()
    }
}

/// Issues a certificate with `openssl ca`, which rcgen cannot make: `version3` false
/// gives an X.509 v1 certificate, `digest` may be `sha1`, and `bits` sets the RSA key.
fn openssl_leaf(
    dir: &Path,
    issuer: &Ca,
    common_name: &str,
    bits: u32,
    digest: &str,
    version3: bool,
) -> String {
    let work = dir.join(format!("openssl-{common_name}"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("ca.pem"), &issuer.pem).unwrap();
    std::fs::write(work.join("ca.key"), issuer.key.serialize_pem()).unwrap();
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("serial"), "1000\n").unwrap();
    std::fs::write(
        work.join("ca.cnf"),
        "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\n\
         serial = serial\npolicy = any\ndefault_md = sha256\nunique_subject = no\n\
         [any]\ncommonName = supplied\n[v3]\nbasicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&work)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let subject = format!("/CN={common_name}");
    let key_option = format!("rsa:{bits}");
    run(&[
        "req",
        "-new",
        "-newkey",
        &key_option,
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        &subject,
    ]);
    let mut args = vec![
        "ca",
        "-batch",
        "-notext",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca.key",
        "-in",
        "leaf.csr",
        "-out",
        "leaf.pem",
        "-startdate",
        "20260101000000Z",
        "-enddate",
        "20270101000000Z",
        "-md",
        digest,
    ];
    if version3 {
        args.extend(["-extensions", "v3"]);
    }
    run(&args);
    std::fs::read_to_string(work.join("leaf.pem")).unwrap()
}

/// One chain case: files relative to the case folder, the policy, and the expected reason
/// (`null` for a valid chain).
fn case(name: &str, bundle: &str, anchors: &str, usage: &str, expected: Option<&str>) -> Value {
    json!({
        "name": name,
        "bundle": bundle,
        "anchors": anchors,
        "usage": usage,
        "at": AT_TEXT,
        "expected_reason": expected,
    })
}

/// Writes every chain case into `dir`, with `cases.json` listing them. Cases that need
/// the openssl CLI are left out when it is absent; the returned flag says so.
pub fn write_chain_cases(dir: &Path) -> (Vec<Value>, bool) {
    std::fs::create_dir_all(dir).unwrap();
    let write = |file: &str, text: &str| std::fs::write(dir.join(file), text).unwrap();

    // The Hub's PKI (RSA 4096, as MCM makes it) signs PM4ML client certificates; the
    // PM4ML PKI (EC P-256) signs PM4ML server and Hub client certificates.
    let hub_root = root("Hub Root CA", rsa_key("hub-root"));
    let hub_intermediate = intermediate(
        "Hub Intermediate CA",
        rsa_key("hub-intermediate"),
        &hub_root,
    );
    let pm4ml_root = root("PM4ML payerfsp CA", ec_key());
    let other_root = root("Unrelated Root CA", ec_key());
    write("hub-root.pem", &hub_root.pem);
    write("hub-intermediate.pem", &hub_intermediate.pem);
    write("pm4ml-root.pem", &pm4ml_root.pem);
    write("other-root.pem", &other_root.pem);

    let client = Leaf::client("payerfsp").issue(&rsa_key("pm4ml-client"), &hub_intermediate);
    let hub_server = Leaf::server("hub.example").issue(&rsa_key("hub-server"), &hub_intermediate);
    let pm4ml_server = Leaf::server("payerfsp.pm4ml.example").issue(&ec_key(), &pm4ml_root);
    let hub_client = Leaf::client("hub-client").issue(&ec_key(), &pm4ml_root);
    let inter = &hub_intermediate.pem;
    let root_pem = &hub_root.pem;

    write("client-chain.pem", &format!("{client}{inter}"));
    write("hub-server-chain.pem", &format!("{hub_server}{inter}"));
    write("pm4ml-server.pem", &pm4ml_server);
    write("hub-client.pem", &hub_client);
    write("client-shuffled.pem", &format!("{inter}{client}"));
    write(
        "client-root-first.pem",
        &format!("{root_pem}{inter}{client}"),
    );
    write("client-no-intermediate.pem", &client);

    let expired = Leaf {
        from: (2025, 1, 1),
        to: (2026, 1, 1),
        ..Leaf::client("expired")
    };
    write(
        "expired.pem",
        &format!("{}{inter}", expired.issue(&ec_key(), &hub_intermediate)),
    );
    let early = Leaf {
        from: (2026, 12, 1),
        to: (2027, 12, 1),
        ..Leaf::client("early")
    };
    write(
        "not-yet-valid.pem",
        &format!("{}{inter}", early.issue(&ec_key(), &hub_intermediate)),
    );
    let cn_only = Leaf {
        dns: Vec::new(),
        ..Leaf::server("cnonly.hub.example")
    };
    write("cn-only.pem", &cn_only.issue(&ec_key(), &pm4ml_root));
    let no_digital_signature = Leaf {
        key_usages: vec![KeyUsagePurpose::KeyEncipherment],
        ..Leaf::client("no-digital-signature")
    };
    write(
        "no-digital-signature.pem",
        &format!(
            "{}{inter}",
            no_digital_signature.issue(&ec_key(), &hub_intermediate)
        ),
    );
    let ca_leaf = Leaf {
        is_ca: true,
        ..Leaf::client("ca-as-leaf")
    };
    write("ca-as-leaf.pem", &ca_leaf.issue(&ec_key(), &pm4ml_root));
    let rsa2048 = Leaf::client("rsa2048").issue(&rsa_key("rsa2048"), &hub_intermediate);
    write("rsa2048-chain.pem", &format!("{rsa2048}{inter}"));

    // PEM traps around the valid client chain.
    let indented: String = format!("{client}{inter}")
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect();
    write("trap-indented.pem", &indented);
    write(
        "trap-crlf.pem",
        &format!("{client}{inter}").replace('\n', "\r\n"),
    );
    write("trap-glued.pem", &format!("{}{inter}", client.trim_end()));
    write(
        "trap-labels.pem",
        &format!(
            "{}{}",
            client.replace("CERTIFICATE-----", "TRUSTED CERTIFICATE-----"),
            inter.replace("CERTIFICATE-----", "X509 CERTIFICATE-----")
        ),
    );
    write(
        "trap-text.pem",
        &format!(
            "subject=CN=payerfsp\n{client}\nissuer=CN=Hub Intermediate CA\n{inter}trailing text\n"
        ),
    );
    write(
        "trap-key-first.pem",
        &format!(
            "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n{client}{inter}"
        ),
    );
    write(
        "trap-truncated.pem",
        client.get(..client.len() - 30).unwrap(),
    );
    write(
        "trap-key-only.pem",
        "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n",
    );

    let mut cases = vec![
        case(
            "client chain (PM4ML → Hub)",
            "client-chain.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "server chain (PM4ML → Hub)",
            "hub-server-chain.pem",
            "hub-root.pem",
            "server",
            None,
        ),
        case(
            "server cert (Hub → PM4ML)",
            "pm4ml-server.pem",
            "pm4ml-root.pem",
            "server",
            None,
        ),
        case(
            "client cert (Hub → PM4ML)",
            "hub-client.pem",
            "pm4ml-root.pem",
            "client",
            None,
        ),
        case(
            "intermediate order shuffled",
            "client-shuffled.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "root-first bundle",
            "client-root-first.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "expired",
            "expired.pem",
            "hub-root.pem",
            "client",
            Some("CERT_EXPIRED"),
        ),
        case(
            "not yet valid",
            "not-yet-valid.pem",
            "hub-root.pem",
            "client",
            Some("CERT_NOT_YET_VALID"),
        ),
        case(
            "server cert used as client",
            "hub-server-chain.pem",
            "hub-root.pem",
            "client",
            Some("EKU_CLIENT_AUTH_MISSING"),
        ),
        case(
            "client cert used as server",
            "client-chain.pem",
            "hub-root.pem",
            "server",
            Some("EKU_SERVER_AUTH_MISSING"),
        ),
        case(
            "wrong CA",
            "client-chain.pem",
            "other-root.pem",
            "client",
            Some("CHAIN_UNKNOWN_ISSUER"),
        ),
        case(
            "missing intermediate",
            "client-no-intermediate.pem",
            "hub-root.pem",
            "client",
            Some("CHAIN_UNKNOWN_ISSUER"),
        ),
        case(
            "no digitalSignature",
            "no-digital-signature.pem",
            "hub-root.pem",
            "client",
            Some("KEY_USAGE_DIGITAL_SIGNATURE_MISSING"),
        ),
        case(
            "CA as leaf",
            "ca-as-leaf.pem",
            "pm4ml-root.pem",
            "client",
            Some("CA_USED_AS_END_ENTITY"),
        ),
        case(
            "PEM indented",
            "trap-indented.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case("PEM CRLF", "trap-crlf.pem", "hub-root.pem", "client", None),
        case(
            "PEM END and BEGIN on one line",
            "trap-glued.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "PEM OpenSSL labels",
            "trap-labels.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "PEM text around blocks",
            "trap-text.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "PEM key first",
            "trap-key-first.pem",
            "hub-root.pem",
            "client",
            None,
        ),
        case(
            "PEM truncated",
            "trap-truncated.pem",
            "hub-root.pem",
            "client",
            Some("PEM_MALFORMED"),
        ),
        case(
            "PEM key only",
            "trap-key-only.pem",
            "hub-root.pem",
            "client",
            Some("PEM_NO_CERTIFICATE"),
        ),
    ];
    let mut with_name = case(
        "CN-only server name",
        "cn-only.pem",
        "pm4ml-root.pem",
        "server",
        Some("IDENTITY_CN_ONLY"),
    );
    with_name["expected_name"] = json!("cnonly.hub.example");
    cases.push(with_name);
    let mut wrong_name = case(
        "wrong server name",
        "pm4ml-server.pem",
        "pm4ml-root.pem",
        "server",
        Some("IDENTITY_MISMATCH"),
    );
    wrong_name["expected_name"] = json!("other.pm4ml.example");
    cases.push(wrong_name);
    let mut right_name = case(
        "server name matches SAN",
        "pm4ml-server.pem",
        "pm4ml-root.pem",
        "server",
        None,
    );
    right_name["expected_name"] = json!("payerfsp.pm4ml.example");
    cases.push(right_name);
    let mut mcm_rsa2048 = case(
        "MCM policy, 2048-bit leaf",
        "rsa2048-chain.pem",
        "hub-root.pem",
        "client",
        Some("KEY_TOO_SMALL"),
    );
    mcm_rsa2048["policy"] = json!("mcm");
    cases.push(mcm_rsa2048);
    let mut mcm_ec = case(
        "MCM policy, ECDSA-signed leaf",
        "hub-client.pem",
        "pm4ml-root.pem",
        "client",
        Some("SIGNATURE_ALGORITHM_NOT_ALLOWED"),
    );
    mcm_ec["policy"] = json!("mcm");
    cases.push(mcm_ec);
    let mut mcm_ok = case(
        "MCM policy, RSA-4096 chain",
        "client-chain.pem",
        "hub-root.pem",
        "client",
        None,
    );
    mcm_ok["policy"] = json!("mcm");
    cases.push(mcm_ok);

    let openssl = openssl_available();
    if openssl {
        let scratch = dir.join("openssl");
        let v1 = openssl_leaf(
            &scratch,
            &hub_intermediate,
            "v1-leaf",
            2048,
            "sha256",
            false,
        );
        write("v1.pem", &format!("{v1}{inter}"));
        let sha1 = openssl_leaf(&scratch, &hub_intermediate, "sha1-leaf", 2048, "sha1", true);
        write("sha1.pem", &format!("{sha1}{inter}"));
        let small = openssl_leaf(
            &scratch,
            &hub_intermediate,
            "rsa1024-leaf",
            1024,
            "sha256",
            true,
        );
        write("rsa1024.pem", &format!("{small}{inter}"));
        std::fs::remove_dir_all(&scratch).unwrap();
        cases.push(case(
            "X.509 v1 leaf",
            "v1.pem",
            "hub-root.pem",
            "client",
            Some("CERT_VERSION_UNSUPPORTED"),
        ));
        cases.push(case(
            "SHA-1 signature",
            "sha1.pem",
            "hub-root.pem",
            "client",
            Some("SIGNATURE_ALGORITHM_UNSUPPORTED"),
        ));
        cases.push(case(
            "1024-bit RSA leaf",
            "rsa1024.pem",
            "hub-root.pem",
            "client",
            Some("KEY_TOO_SMALL"),
        ));
    }
    write("cases.json", &serde_json::to_string_pretty(&cases).unwrap());
    (cases, openssl)
}

/// One CSR case.
fn csr_case(name: &str, file: &str, policy: &str, expected: Option<&str>) -> Value {
    json!({ "name": name, "csr": file, "policy": policy, "expected_reason": expected })
}

/// Writes the CSR cases, one per MCM rule accepted and rejected, with `csr-cases.json`.
pub fn write_csr_cases(dir: &Path) -> (Vec<Value>, bool) {
    std::fs::create_dir_all(dir).unwrap();
    let write = |file: &str, text: &str| std::fs::write(dir.join(file), text).unwrap();
    let request = |common_name: Option<&str>, key: &KeyPair| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = match common_name {
            Some(common_name) => name(common_name),
            None => DistinguishedName::new(),
        };
        params.serialize_request(key).unwrap().pem().unwrap()
    };
    let rsa4096 = rsa_key("pm4ml-client");
    let pem = std::fs::read_to_string(keys_dir().join("pm4ml-client.key.pem")).unwrap();
    let rsa4096_sha512 = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA512).unwrap();
    let rsa4096_sha384 = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA384).unwrap();

    write(
        "csr-rsa4096-sha256.pem",
        &request(Some("payerfsp"), &rsa4096),
    );
    write("csr-empty-subject.pem", &request(None, &rsa4096));
    write(
        "csr-rsa4096-sha512.pem",
        &request(Some("payerfsp"), &rsa4096_sha512),
    );
    write(
        "csr-rsa4096-sha384.pem",
        &request(Some("payerfsp"), &rsa4096_sha384),
    );
    write(
        "csr-rsa2048.pem",
        &request(Some("payerfsp"), &rsa_key("rsa2048")),
    );
    write("csr-ec.pem", &request(Some("payerfsp"), &ec_key()));
    // Flip one bit of the signature: the last base64 character before the END line.
    let good = request(Some("payerfsp"), &rsa4096);
    let end = good.find("\n-----END").unwrap();
    let mut tampered = good.clone().into_bytes();
    let last = tampered.get_mut(end - 2).unwrap();
    *last = if *last == b'A' { b'B' } else { b'A' };
    write(
        "csr-bad-signature.pem",
        &String::from_utf8(tampered).unwrap(),
    );

    let mut cases = vec![
        csr_case("RSA 4096, SHA-256", "csr-rsa4096-sha256.pem", "mcm", None),
        csr_case("RSA 4096, SHA-512", "csr-rsa4096-sha512.pem", "mcm", None),
        csr_case(
            "empty subject (as PM4ML sends)",
            "csr-empty-subject.pem",
            "mcm",
            None,
        ),
        csr_case(
            "SHA-384 not in MCM's list",
            "csr-rsa4096-sha384.pem",
            "mcm",
            Some("CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED"),
        ),
        csr_case(
            "RSA 2048 under 4096 minimum",
            "csr-rsa2048.pem",
            "mcm",
            Some("CSR_KEY_TOO_SMALL"),
        ),
        csr_case(
            "RSA 2048 with 2048 minimum",
            "csr-rsa2048.pem",
            "mcm-2048",
            None,
        ),
        csr_case(
            "EC key, ECDSA signature",
            "csr-ec.pem",
            "mcm",
            Some("CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED"),
        ),
        csr_case(
            "EC key, RSA-only key policy",
            "csr-ec.pem",
            "mcm-ecdsa-alg",
            Some("CSR_KEY_TYPE_NOT_ALLOWED"),
        ),
        csr_case(
            "altered CSR",
            "csr-bad-signature.pem",
            "mcm",
            Some("CSR_SIGNATURE_INVALID"),
        ),
        csr_case(
            "subject CN required and present",
            "csr-rsa4096-sha256.pem",
            "mcm-cn",
            None,
        ),
        csr_case(
            "subject CN required, empty subject",
            "csr-empty-subject.pem",
            "mcm-cn",
            Some("CSR_SUBJECT_FIELD_MISSING"),
        ),
    ];
    let openssl = openssl_available();
    if openssl {
        let key = keys_dir().join("rsa2048.key.pem");
        let out = dir.join("csr-sha1.pem");
        let output = Command::new("openssl")
            .args(["req", "-new", "-sha1", "-subj", "/CN=payerfsp", "-key"])
            .arg(&key)
            .arg("-out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        cases.push(csr_case(
            "SHA-1 signature",
            "csr-sha1.pem",
            "mcm-2048",
            Some("CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED"),
        ));
    }
    write(
        "csr-cases.json",
        &serde_json::to_string_pretty(&cases).unwrap(),
    );
    (cases, openssl)
}

/// Writes the example set for `fspiop-guard expiry` into `dir`: one source per row of
/// the expiry table, each in the form it has in a deployment, and `inventory.json`.
/// At [`AT`] the rows show every status: ok, warning, renewal due, expired, no expiry.
pub fn write_examples(dir: &Path) {
    use base64::Engine as _;
    std::fs::create_dir_all(dir).unwrap();
    let write = |file: &str, text: &str| std::fs::write(dir.join(file), text).unwrap();
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);

    let hub_root = root("Hub Root CA", rsa_key("hub-root"));
    let hub_intermediate = intermediate(
        "Hub Intermediate CA",
        rsa_key("hub-intermediate"),
        &hub_root,
    );
    let pm4ml_root = root("PM4ML payerfsp CA", ec_key());
    write(
        "hub-ca.json",
        &serde_json::to_string_pretty(&json!({
            "rootCertificate": hub_root.pem,
            "validationState": "VALID",
            "type": "INTERNAL",
        }))
        .unwrap(),
    );

    let secret_with_certificate = |name: &str,
                                   renew_before: Option<&str>,
                                   tls_crt: &str,
                                   ca_crt: &str| {
        let renew = renew_before
            .map(|value| format!("  renewBefore: {value}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: {name}\n\
             spec:\n  secretName: {name}-tls\n  duration: 2160h\n{renew}  issuerRef:\n    \
             name: vault-cluster-issuer\n    kind: ClusterIssuer\n---\napiVersion: v1\nkind: Secret\n\
             metadata:\n  name: {name}-tls\n  annotations:\n    cert-manager.io/certificate-name: {name}\n\
             type: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  ca.crt: {}\n  tls.key: \"\"\n",
            encode(tls_crt),
            encode(ca_crt)
        )
    };

    // PM4ML server certificate: renewBefore 720h puts renewal at 2026-04-30, before AT,
    // so cert-manager is late.
    let pm4ml_server = Leaf {
        from: (2026, 3, 1),
        to: (2026, 5, 30),
        ..Leaf::server("payerfsp.pm4ml.example")
    }
    .issue(&ec_key(), &pm4ml_root);
    write(
        "pm4ml-server.yaml",
        &secret_with_certificate("pm4ml-server", Some("720h"), &pm4ml_server, &pm4ml_root.pem),
    );

    // Hub server certificate: cert-manager's default rule, renewal at two-thirds.
    let hub_server = Leaf {
        from: (2026, 1, 1),
        to: (2026, 12, 31),
        ..Leaf::server("hub.example")
    }
    .issue(&rsa_key("hub-server"), &hub_intermediate);
    write(
        "hub-server.yaml",
        &secret_with_certificate(
            "hub-server",
            None,
            &format!("{hub_server}{}", hub_intermediate.pem),
            &hub_intermediate.pem,
        ),
    );

    // Hub client certificate, signed by the PM4ML CA and kept in Vault: six days left.
    let hub_client = Leaf {
        from: (2026, 4, 20),
        to: (2026, 5, 20),
        ..Leaf::client("hub-client")
    }
    .issue(&ec_key(), &pm4ml_root);
    write("hub-client.pem", &format!("{hub_client}{}", pm4ml_root.pem));

    // PM4ML client certificate, signed by the Hub: expired before re-enrolment ran.
    let pm4ml_client = Leaf {
        from: (2025, 5, 1),
        to: (2026, 5, 1),
        ..Leaf::client("payerfsp")
    }
    .issue(&rsa_key("pm4ml-client"), &hub_intermediate);
    write(
        "pm4ml-client.pem",
        &format!("{pm4ml_client}{}", hub_intermediate.pem),
    );

    // Hub JWS key: the switch-jws Secret that cert-manager rotates every 28 days.
    let jws_certificate = Leaf {
        from: (2026, 4, 15),
        to: (2026, 5, 13),
        eku: Vec::new(),
        ..Leaf::client("switch-jws")
    }
    .issue(&rsa_key("hub-jws"), &hub_intermediate);
    write(
        "switch-jws.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: switch-jws\ntype: kubernetes.io/tls\n\
             data:\n  tls.crt: {}\n  tls.key: \"\"\n",
            encode(&jws_certificate)
        ),
    );

    // PM4ML JWS key as MCM's GET /api/dfsps/jwscerts lists it.
    let pm4ml_jws = ec_key();
    let pm4ml_jws_pem = {
        let der = rcgen::PublicKeyData::subject_public_key_info(&pm4ml_jws);
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|chunk| std::str::from_utf8(chunk).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    };
    write(
        "mcm-jwscerts.json",
        &serde_json::to_string_pretty(&json!([
            { "dfspId": "payerfsp", "publicKey": pm4ml_jws_pem, "createdAt": 1_769_904_000, "validationState": "INVALID" },
        ]))
        .unwrap(),
    );

    // A Hub-issued JWT with an hour left, signed with the Hub JWS key.
    let header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({ "iss": "https://hub.example/iam", "sub": "payerfsp", "iat": AT - 300, "exp": AT + 3300 }).to_string(),
    );
    let message = format!("{header}.{claims}");
    let pem = std::fs::read_to_string(keys_dir().join("hub-jws.key.pem")).unwrap();
    let signer = fspiop_guard_core::crypto::SigningKey::from_pem(&pem).unwrap();
    let signature = signer
        .sign(fspiop_guard_core::Algorithm::RS256, message.as_bytes())
        .unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    write("hub-jwt.txt", &format!("{message}.{signature}\n"));

    let inventory = json!({ "items": [
        { "item": "pm4ml-server-cert", "source": "pm4ml-server.yaml" },
        { "item": "hub-client-cert", "source": "hub-client.pem" },
        { "item": "hub-server-cert", "source": "hub-server.yaml" },
        { "item": "pm4ml-client-cert", "source": "pm4ml-client.pem" },
        { "item": "hub-jws-key", "source": "switch-jws.yaml" },
        { "item": "pm4ml-jws-key", "source": "mcm-jwscerts.json#payerfsp" },
        { "item": "hub-jwt", "source": "hub-jwt.txt" },
        { "item": "hub-ca", "source": "hub-ca.json" },
    ]});
    write(
        "inventory.json",
        &serde_json::to_string_pretty(&inventory).unwrap(),
    );
}
