//! The expiry and rotation report: one row per item of the Hub ↔ PM4ML trust
//! architecture, what expires when, who renews it and how.
//!
//! | item | direction | managed by | rotation |
//! |---|---|---|---|
//! | PM4ML server certificate | Hub → PM4ML | cert-manager | automatic |
//! | Hub client certificate | Hub → PM4ML | Hub + Vault | manual / CSR workflow |
//! | Hub server certificate | PM4ML → Hub | cert-manager | automatic |
//! | PM4ML client certificate | PM4ML → Hub | PM4ML + Vault | manual / CSR workflow |
//! | Hub JWS public key | Hub → PM4ML | MCM server | published on rotation, no expiry |
//! | PM4ML JWS public key | PM4ML → Hub | MCM client | published on rotation, no expiry |
//! | Hub-issued JWT | Hub → PM4ML | application | `exp` claim |
//!
//! The Hub CA that PM4ML reads from MCM is reported as an extra row.
//!
//! For cert-manager certificates the renewal time follows cert-manager's rule on the
//! issued certificate's lifetime `L = notAfter − notBefore`: `notAfter − renewBefore`
//! when `0 < renewBefore < L`, else `notAfter − L × renewBeforePercentage / 100` when the
//! percentage is set, else `notAfter − L / 3` (two-thirds of the lifetime).

use serde::Serialize;

use super::inspect::CertificateInfo;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// PM4ML re-enrols its client certificate when notAfter is this close (its
/// `CERT_EXPIRY_THRESHOLD_DAYS` default).
pub const PM4ML_REENROLMENT_DAYS: i64 = 7;

/// One item of the architecture's expiry table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Item {
    Pm4mlServerCert,
    HubClientCert,
    HubServerCert,
    Pm4mlClientCert,
    HubJwsKey,
    Pm4mlJwsKey,
    HubJwt,
    /// The Hub CA that MCM publishes at `GET /api/hub/ca`; not a row of the table.
    HubCa,
}

impl Item {
    /// The seven rows of the architecture's table, in its order.
    pub const TABLE: [Item; 7] = [
        Item::Pm4mlServerCert,
        Item::HubClientCert,
        Item::HubServerCert,
        Item::Pm4mlClientCert,
        Item::HubJwsKey,
        Item::Pm4mlJwsKey,
        Item::HubJwt,
    ];

    /// Every item, including the Hub CA.
    pub const ALL: [Item; 8] = [
        Item::Pm4mlServerCert,
        Item::HubClientCert,
        Item::HubServerCert,
        Item::Pm4mlClientCert,
        Item::HubJwsKey,
        Item::Pm4mlJwsKey,
        Item::HubJwt,
        Item::HubCa,
    ];

    /// Returns the command-line id, for example `pm4ml-server-cert`.
    pub fn id(self) -> &'static str {
        match self {
            Item::Pm4mlServerCert => "pm4ml-server-cert",
            Item::HubClientCert => "hub-client-cert",
            Item::HubServerCert => "hub-server-cert",
            Item::Pm4mlClientCert => "pm4ml-client-cert",
            Item::HubJwsKey => "hub-jws-key",
            Item::Pm4mlJwsKey => "pm4ml-jws-key",
            Item::HubJwt => "hub-jwt",
            Item::HubCa => "hub-ca",
        }
    }

    /// Looks an item up by its id.
    pub fn from_id(id: &str) -> Option<Item> {
        Item::ALL.into_iter().find(|item| item.id() == id)
    }

    /// Returns the row label.
    pub fn label(self) -> &'static str {
        match self {
            Item::Pm4mlServerCert => "PM4ML server cert (inbound mTLS)",
            Item::HubClientCert => "Hub client cert (outbound mTLS)",
            Item::HubServerCert => "Hub server cert (inbound mTLS)",
            Item::Pm4mlClientCert => "PM4ML client cert (outbound mTLS)",
            Item::HubJwsKey => "Hub JWS public key",
            Item::Pm4mlJwsKey => "PM4ML JWS public key",
            Item::HubJwt => "Hub-issued JWT",
            Item::HubCa => "Hub CA (from MCM)",
        }
    }

    /// Returns the traffic direction the item protects.
    pub fn direction(self) -> &'static str {
        match self {
            Item::Pm4mlServerCert | Item::HubClientCert | Item::HubJwsKey | Item::HubJwt => {
                "Hub → PM4ML"
            }
            Item::HubServerCert | Item::Pm4mlClientCert | Item::Pm4mlJwsKey | Item::HubCa => {
                "PM4ML → Hub"
            }
        }
    }

    /// Returns who renews or rotates it.
    pub fn managed_by(self) -> &'static str {
        match self {
            Item::Pm4mlServerCert | Item::HubServerCert => "cert-manager",
            Item::HubClientCert => "Hub + Vault",
            Item::Pm4mlClientCert => "PM4ML + Vault",
            Item::HubJwsKey => "MCM server",
            Item::Pm4mlJwsKey => "MCM client",
            Item::HubJwt => "application",
            Item::HubCa => "MCM + Vault PKI",
        }
    }

    /// Returns how it is rotated.
    pub fn rotation_method(self) -> &'static str {
        match self {
            Item::Pm4mlServerCert | Item::HubServerCert => "automatic",
            Item::HubClientCert | Item::Pm4mlClientCert => "manual / CSR workflow",
            Item::HubJwsKey | Item::Pm4mlJwsKey => "published to MCM on rotation",
            Item::HubJwt => "exp claim",
            Item::HubCa => "manual; PM4ML polls GET /api/hub/ca",
        }
    }

    /// Reports whether the item has an expiry date.
    pub fn expires(self) -> bool {
        !matches!(self, Item::HubJwsKey | Item::Pm4mlJwsKey)
    }
}

/// Renewal settings of a cert-manager Certificate resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CertManagerSpec {
    /// `metadata.name` of the Certificate.
    pub name: Option<String>,
    /// `spec.duration` in seconds.
    pub duration: Option<i64>,
    /// `spec.renewBefore` in seconds.
    pub renew_before: Option<i64>,
    /// `spec.renewBeforePercentage`, an integer in 1..=99.
    pub renew_before_percentage: Option<i64>,
    /// `spec.renewal.policy: Disabled` turns automatic renewal off.
    pub renewal_disabled: bool,
}

/// When cert-manager renews a certificate and by which rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Renewal {
    /// Unix seconds.
    pub at: i64,
    pub at_text: String,
    /// The rule applied, for example `renewBefore 360h` or `two-thirds of the lifetime`.
    pub rule: String,
    /// `now` is at or after the renewal time, so the certificate should have been renewed.
    pub due: bool,
}

/// Computes cert-manager's renewal time for an issued certificate.
///
/// Returns `None` when renewal is disabled or the validity period is empty.
pub fn renewal_time(
    not_before: i64,
    not_after: i64,
    spec: &CertManagerSpec,
    now: i64,
) -> Option<Renewal> {
    if spec.renewal_disabled {
        return None;
    }
    let lifetime = not_after.checked_sub(not_before)?;
    if lifetime <= 0 {
        return None;
    }
    let (at, rule) = match (spec.renew_before, spec.renew_before_percentage) {
        (Some(before), _) if before > 0 && before < lifetime => {
            (not_after - before, format!("renewBefore {}", hours(before)))
        }
        (before, Some(percentage)) if (1..100).contains(&percentage) => {
            let fallback = if before.is_some() {
                " (renewBefore is not shorter than the lifetime)"
            } else {
                ""
            };
            (
                not_after - lifetime * percentage / 100,
                format!("renewBeforePercentage {percentage}{fallback}"),
            )
        }
        (before, _) => {
            let fallback = if before.is_some() {
                " (renewBefore is not shorter than the lifetime, so cert-manager ignores it)"
            } else {
                ""
            };
            (
                not_after - lifetime / 3,
                format!("two-thirds of the lifetime{fallback}"),
            )
        }
    };
    Some(Renewal {
        at,
        at_text: crate::rfc3339::format(at),
        rule,
        due: now >= at,
    })
}

fn hours(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{seconds}s")
    }
}

/// Result of reading an item's source.
#[derive(Clone, Debug)]
pub enum Evidence {
    /// A certificate (the leaf of the source), with cert-manager's spec when the source
    /// was a manifest that also held the Certificate resource.
    Certificate {
        info: Box<CertificateInfo>,
        cert_manager: Option<CertManagerSpec>,
    },
    /// A JWS public key, with when it was first seen or published (unix seconds).
    Key { kid: String, published: Option<i64> },
    /// A JWT's time claims.
    Token {
        exp: Option<i64>,
        issued_at: Option<i64>,
        subject: Option<String>,
    },
    /// The source could not be read, and the text gives the cause.
    Unreadable(String),
}

/// Row status, ordered from harmless to alarming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No source given for the item.
    NotChecked,
    /// JWS key: no expiry, within the rotation policy if one was given.
    NoExpiry,
    Ok,
    /// Fewer days left than the threshold, or a JWS key older than the rotation policy.
    Warning,
    /// cert-manager's renewal time has passed and the certificate was not renewed.
    RenewalDue,
    NotYetValid,
    Expired,
    /// The source could not be read.
    Error,
}

impl Status {
    /// Returns the kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Status::NotChecked => "not-checked",
            Status::NoExpiry => "no-expiry",
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::RenewalDue => "renewal-due",
            Status::NotYetValid => "not-yet-valid",
            Status::Expired => "expired",
            Status::Error => "error",
        }
    }

    /// Reports whether the status needs an operator's attention.
    pub fn alerts(self) -> bool {
        matches!(
            self,
            Status::Warning
                | Status::RenewalDue
                | Status::NotYetValid
                | Status::Expired
                | Status::Error
        )
    }
}

/// Thresholds of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// A row with fewer days left than this is a warning.
    pub warn_days: i64,
    /// A JWS key older than this many days is a warning; `None` reports the age only.
    pub jws_max_age_days: Option<i64>,
    /// A JWT with fewer seconds left than this is a warning. Tokens live for minutes, so
    /// the day threshold would flag every one.
    pub jwt_warn_seconds: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_days: 30,
            jws_max_age_days: None,
            jwt_warn_seconds: 300,
        }
    }
}

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpiryRow {
    pub item: Item,
    pub label: &'static str,
    pub direction: &'static str,
    pub managed_by: &'static str,
    pub rotation_method: &'static str,
    /// Origin of the evidence: a path, a manifest object or a URL.
    pub source: Option<String>,
    pub subject: Option<String>,
    /// Unix seconds; `None` for JWS keys and unread sources.
    pub expires: Option<i64>,
    pub expires_text: Option<String>,
    /// Whole days from `now` to `expires`, rounded toward zero; negative once expired.
    pub days_left: Option<i64>,
    pub renewal: Option<Renewal>,
    /// Whole days since a JWS key was published or a certificate issued.
    pub age_days: Option<i64>,
    pub status: Status,
    pub note: String,
}

/// Builds the row for one item from its evidence at `now` (unix seconds).
pub fn evaluate(
    item: Item,
    source: Option<String>,
    evidence: Option<&Evidence>,
    now: i64,
    thresholds: &Thresholds,
) -> ExpiryRow {
    let mut row = ExpiryRow {
        item,
        label: item.label(),
        direction: item.direction(),
        managed_by: item.managed_by(),
        rotation_method: item.rotation_method(),
        source,
        subject: None,
        expires: None,
        expires_text: None,
        days_left: None,
        renewal: None,
        age_days: None,
        status: Status::NotChecked,
        note: String::new(),
    };
    match evidence {
        None => row.note = "no source given".to_owned(),
        Some(Evidence::Unreadable(why)) => {
            row.status = Status::Error;
            row.note.clone_from(why);
        }
        Some(Evidence::Certificate { info, cert_manager }) => {
            evaluate_certificate(&mut row, info, cert_manager.as_ref(), now, thresholds);
        }
        Some(Evidence::Key { kid, published }) => {
            row.subject = Some(format!("kid {kid}"));
            row.age_days = published.map(|at| (now - at).div_euclid(DAY));
            row.status = Status::NoExpiry;
            row.note = match (row.age_days, thresholds.jws_max_age_days) {
                (Some(age), Some(max)) if age > max => {
                    row.status = Status::Warning;
                    format!(
                        "no expiry, rotated by policy; {age} days old, over the {max}-day rotation policy"
                    )
                }
                (Some(age), _) => format!("no expiry, rotated by policy; {age} days old"),
                (None, _) => "no expiry, rotated by policy; publication time unknown".to_owned(),
            };
        }
        Some(Evidence::Token {
            exp,
            issued_at,
            subject,
        }) => {
            row.subject.clone_from(subject);
            row.age_days = issued_at.map(|at| (now - at).div_euclid(DAY));
            match exp {
                Some(exp) => {
                    set_expiry(&mut row, *exp, now);
                    row.status = if now >= *exp {
                        Status::Expired
                    } else if *exp - now < thresholds.jwt_warn_seconds {
                        Status::Warning
                    } else {
                        Status::Ok
                    };
                    row.note = "expires at its exp claim (expired when now >= exp)".to_owned();
                }
                None => {
                    row.status = Status::Error;
                    row.note = "the token has no exp claim, so it never expires".to_owned();
                }
            }
        }
    }
    row
}

fn set_expiry(row: &mut ExpiryRow, expires: i64, now: i64) {
    row.expires = Some(expires);
    row.expires_text = Some(crate::rfc3339::format(expires));
    row.days_left = Some((expires - now) / DAY);
}

fn evaluate_certificate(
    row: &mut ExpiryRow,
    info: &CertificateInfo,
    cert_manager: Option<&CertManagerSpec>,
    now: i64,
    thresholds: &Thresholds,
) {
    row.subject = Some(info.subject.clone());
    row.age_days = Some((now - info.not_before).div_euclid(DAY));
    set_expiry(row, info.not_after, now);

    let automatic = matches!(row.item, Item::Pm4mlServerCert | Item::HubServerCert);
    let mut notes = Vec::new();
    if automatic || cert_manager.is_some() {
        let spec = cert_manager.cloned().unwrap_or_default();
        row.renewal = renewal_time(info.not_before, info.not_after, &spec, now);
        if spec.renewal_disabled {
            notes.push("automatic renewal disabled (spec.renewal.policy: Disabled)".to_owned());
        }
        if cert_manager.is_none() {
            notes.push(
                "no Certificate resource given; renewal assumes cert-manager's defaults".to_owned(),
            );
        }
    } else if row.item == Item::Pm4mlClientCert {
        let at = info.not_after - PM4ML_REENROLMENT_DAYS * DAY;
        row.renewal = Some(Renewal {
            at,
            at_text: crate::rfc3339::format(at),
            rule: format!(
                "PM4ML re-enrols {PM4ML_REENROLMENT_DAYS} days before notAfter (CERT_EXPIRY_THRESHOLD_DAYS)"
            ),
            due: now >= at,
        });
    }

    let seconds_left = info.not_after - now;
    row.status = if now > info.not_after {
        Status::Expired
    } else if now < info.not_before {
        Status::NotYetValid
    } else if automatic && row.renewal.as_ref().is_some_and(|renewal| renewal.due) {
        notes.push(
            "cert-manager should have renewed it by now; check the Certificate's events".to_owned(),
        );
        Status::RenewalDue
    } else if seconds_left < thresholds.warn_days * DAY {
        Status::Warning
    } else {
        Status::Ok
    };
    if row.status == Status::Expired {
        notes.insert(
            0,
            format!(
                "expired {}",
                super::chain::span(now - info.not_after) + " ago"
            ),
        );
    }
    row.note = notes.join("; ");
}

/// Renders rows in the Prometheus text exposition format, for node_exporter's textfile
/// collector. Times are unix seconds; rows without a source are left out.
pub fn prometheus(rows: &[ExpiryRow], now: i64) -> String {
    let mut out = String::new();
    let metrics: [(&str, &str, &str); 5] = [
        (
            "fspiop_guard_expiry_timestamp_seconds",
            "gauge",
            "Unix time at which the item expires.",
        ),
        (
            "fspiop_guard_expiry_renewal_timestamp_seconds",
            "gauge",
            "Unix time at which cert-manager or PM4ML renews the certificate.",
        ),
        (
            "fspiop_guard_expiry_age_seconds",
            "gauge",
            "Seconds since the certificate was issued or the JWS key was published.",
        ),
        (
            "fspiop_guard_expiry_status",
            "gauge",
            "1 for the row's current status, by status label.",
        ),
        (
            "fspiop_guard_expiry_report_timestamp_seconds",
            "gauge",
            "Unix time the report was evaluated at.",
        ),
    ];
    for (name, kind, help) in metrics {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for row in rows.iter().filter(|row| row.status != Status::NotChecked) {
            let labels = format!(
                "item=\"{}\",direction=\"{}\",managed_by=\"{}\"",
                row.item.id(),
                escape_label(row.direction),
                escape_label(row.managed_by)
            );
            match name {
                "fspiop_guard_expiry_timestamp_seconds" => {
                    if let Some(expires) = row.expires {
                        out.push_str(&format!("{name}{{{labels}}} {expires}\n"));
                    }
                }
                "fspiop_guard_expiry_renewal_timestamp_seconds" => {
                    if let Some(renewal) = &row.renewal {
                        out.push_str(&format!("{name}{{{labels}}} {}\n", renewal.at));
                    }
                }
                "fspiop_guard_expiry_age_seconds" => {
                    if let Some(age) = row.age_days {
                        out.push_str(&format!("{name}{{{labels}}} {}\n", age * DAY));
                    }
                }
                "fspiop_guard_expiry_status" => {
                    out.push_str(&format!(
                        "{name}{{{labels},status=\"{}\"}} 1\n",
                        row.status.name()
                    ));
                }
                _ => {}
            }
        }
    }
    out.push_str(&format!(
        "fspiop_guard_expiry_report_timestamp_seconds {now}\n"
    ));
    out
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const START: i64 = 1_700_000_000;

    #[test]
    fn renewal_defaults_to_two_thirds() {
        let renewal =
            renewal_time(START, START + 90 * DAY, &CertManagerSpec::default(), START).unwrap();
        assert_eq!(renewal.at, START + 60 * DAY);
        assert!(!renewal.due);
    }

    #[test]
    fn renewal_uses_renew_before() {
        let spec = CertManagerSpec {
            renew_before: Some(15 * DAY),
            ..CertManagerSpec::default()
        };
        let renewal = renewal_time(START, START + 90 * DAY, &spec, START + 80 * DAY).unwrap();
        assert_eq!(renewal.at, START + 75 * DAY);
        assert!(renewal.due);
    }

    #[test]
    fn renewal_ignores_too_long_renew_before() {
        let spec = CertManagerSpec {
            renew_before: Some(90 * DAY),
            ..CertManagerSpec::default()
        };
        let renewal = renewal_time(START, START + 90 * DAY, &spec, START).unwrap();
        assert_eq!(renewal.at, START + 60 * DAY);
        assert!(renewal.rule.contains("ignores"));
    }

    #[test]
    fn renewal_uses_percentage() {
        let spec = CertManagerSpec {
            renew_before_percentage: Some(10),
            ..CertManagerSpec::default()
        };
        let renewal = renewal_time(START, START + 100 * DAY, &spec, START).unwrap();
        assert_eq!(renewal.at, START + 90 * DAY);
    }

    #[test]
    fn renewal_disabled_gives_none() {
        let spec = CertManagerSpec {
            renewal_disabled: true,
            ..CertManagerSpec::default()
        };
        assert!(renewal_time(START, START + 90 * DAY, &spec, START).is_none());
    }

    #[test]
    fn token_expired_at_exp() {
        let evidence = Evidence::Token {
            exp: Some(START),
            issued_at: None,
            subject: None,
        };
        let row = evaluate(
            Item::HubJwt,
            None,
            Some(&evidence),
            START,
            &Thresholds::default(),
        );
        assert_eq!(row.status, Status::Expired);
    }

    #[test]
    fn key_age_over_policy_warns() {
        let evidence = Evidence::Key {
            kid: "k".to_owned(),
            published: Some(START - 40 * DAY),
        };
        let thresholds = Thresholds {
            jws_max_age_days: Some(30),
            ..Thresholds::default()
        };
        let row = evaluate(Item::HubJwsKey, None, Some(&evidence), START, &thresholds);
        assert_eq!(row.status, Status::Warning);
        assert_eq!(row.age_days, Some(40));
    }
}
