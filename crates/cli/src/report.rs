//! Human-readable verdicts: the verdict first, then every check, then the diagnosis.

use std::io::{self, Write};

use fspiop_guard_core::Profile;
use fspiop_guard_core::diagnose::Diagnosis;
use fspiop_guard_core::verdict::{Outcome, Reason, Verdict};

/// Writes a verdict as a check list.
pub fn write_verdict(
    out: &mut impl Write,
    verdict: &Verdict,
    profile: &Profile,
    diagnosis: Option<&Diagnosis>,
) -> io::Result<()> {
    match (verdict.accepted, verdict.reason, verdict.fspiop_error()) {
        (true, _, _) => writeln!(out, "VALID    {}", verdict.message())?,
        (false, Some(reason), Some(error)) => {
            // The SDK returns 3105 for every JWS failure and 3101 only for a body it
            // cannot parse, so users holding an SDK error code need the mapping.
            let sdk_note = match error.code() {
                "3105" | "3101" => "",
                _ => "; the Mojaloop SDK reports this as 3105",
            };
            writeln!(
                out,
                "INVALID  {} (FSPIOP {} {}{sdk_note})",
                reason.code(),
                error.code(),
                error.description()
            )?;
            writeln!(out, "         {}", verdict.message())?;
        }
        _ => writeln!(out, "INVALID  {}", verdict.message())?,
    }
    if let Some(cause) = diagnosis.and_then(|d| likely_cause(verdict, d)) {
        writeln!(out, "likely   {cause}")?;
    }
    writeln!(out, "profile  {}", profile.name)?;

    writeln!(out, "checks")?;
    for check in &verdict.checks {
        let mark = match check.outcome {
            Outcome::Pass => "ok  ",
            Outcome::Fail => "FAIL",
            Outcome::NotApplicable => "n/a ",
            Outcome::Warn => "warn",
        };
        writeln!(
            out,
            "  {mark}  {:<20} {}",
            check.id.name(),
            check.id.description()
        )?;
    }
    if !verdict.forms_tried.is_empty() {
        let forms: Vec<&str> = verdict.forms_tried.iter().map(|f| f.name()).collect();
        let matched = verdict.payload_form.map(|f| f.name()).unwrap_or("none");
        writeln!(
            out,
            "payload forms tried: {} (matched: {matched})",
            forms.join(", ")
        )?;
    }
    for warning in &verdict.warnings {
        writeln!(out, "warning: {warning}")?;
    }

    if let Some(diagnosis) = diagnosis {
        if verdict.accepted {
            write_sdk_compatibility(out, verdict, diagnosis)?;
        } else {
            write_diagnosis(out, diagnosis)?;
        }
    }
    Ok(())
}

/// Names the most likely cause of a rejection from what the diagnosis found.
fn likely_cause(verdict: &Verdict, diagnosis: &Diagnosis) -> Option<String> {
    if verdict.reason != Some(Reason::SignatureMismatch) {
        return None;
    }
    let source = verdict.participant.as_deref().unwrap_or_default();
    let own = |active: bool| {
        diagnosis
            .matches
            .iter()
            .find(|m| m.participant == source && m.active == active)
    };

    if let Some(found) = own(false) {
        return Some(format!(
            "the signature verifies under a RETIRED key of {source:?} ({}): the sender still signs with its old key",
            found.kid
        ));
    }
    if let Some(found) = own(true) {
        return Some(format!(
            "the signature verifies over the {} payload, which this profile does not try; see docs/CONFORMANCE.md",
            found.form
        ));
    }
    if let Some(found) = diagnosis.matches.first() {
        return Some(format!(
            "the signature verifies under the key of {:?} ({}), not {source:?}: the FSPIOP-Source header or the key files are wrong",
            found.participant, found.kid
        ));
    }
    if diagnosis.stopped.is_none() {
        return Some(
            "no known key verifies this signature over any payload form: the body or protected header \
             changed after signing, or the sender's key is not configured"
                .to_owned(),
        );
    }
    None
}

/// Says which SDK versions would accept an accepted request, from the forms that verify
/// under the source participant's active keys.
fn write_sdk_compatibility(
    out: &mut impl Write,
    verdict: &Verdict,
    diagnosis: &Diagnosis,
) -> io::Result<()> {
    let source = verdict.participant.as_deref().unwrap_or_default();
    let verifies = |form: &str| {
        diagnosis
            .matches
            .iter()
            .any(|m| m.participant == source && m.active && m.form == form)
    };
    let verdict_for = |form: &str| {
        if verifies(form) {
            "accept".to_owned()
        } else {
            format!("REJECT (the {form} payload does not verify)")
        }
    };
    writeln!(out, "SDK validators")?;
    writeln!(out, "  19.19.x  {}", verdict_for("sorted-json"))?;
    writeln!(out, "  19.18.x  {}", verdict_for("insertion-json"))?;
    Ok(())
}

fn write_diagnosis(out: &mut impl Write, diagnosis: &Diagnosis) -> io::Result<()> {
    writeln!(out, "diagnosis")?;
    if let Some(protected) = &diagnosis.protected_header {
        writeln!(out, "  protected header: {protected}")?;
    }
    for field in &diagnosis.fields {
        let mark = if field.equal { "=" } else { "≠" };
        writeln!(
            out,
            "  {mark} {:<36} protected {:<40} request {}",
            field.member,
            show(field.protected.as_deref()),
            show(field.actual.as_deref())
        )?;
    }
    if !diagnosis.forms_available.is_empty() {
        writeln!(
            out,
            "  payload forms built: {}",
            diagnosis.forms_available.join(", ")
        )?;
    }
    if diagnosis.matches.is_empty() && diagnosis.stopped.is_none() {
        writeln!(
            out,
            "  the signature verifies under no known key and no payload form"
        )?;
    }
    // One line per key, listing every payload form it verifies over.
    let mut seen: Vec<(&str, &str, bool)> = Vec::new();
    for found in &diagnosis.matches {
        let key = (found.participant.as_str(), found.kid.as_str(), found.active);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let forms: Vec<&str> = diagnosis
            .matches
            .iter()
            .filter(|other| other.kid == found.kid && other.participant == found.participant)
            .map(|other| other.form)
            .collect();
        let state = if found.active { "active" } else { "retired" };
        writeln!(
            out,
            "  signature verifies under {state} key {} of {:?} over: {}",
            found.kid,
            found.participant,
            forms.join(", ")
        )?;
    }
    if let Some(stopped) = &diagnosis.stopped {
        writeln!(out, "  stopped: {stopped}")?;
    }
    Ok(())
}

fn show(value: Option<&str>) -> String {
    match value {
        Some(text) => format!("{text:?}"),
        None => "(absent)".to_owned(),
    }
}
