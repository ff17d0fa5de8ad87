//! Human-readable verdicts: the verdict first, then every check, then the diagnosis.

use std::io::{self, Write};

use fspiop_guard_core::Profile;
use fspiop_guard_core::diagnose::Diagnosis;
use fspiop_guard_core::verdict::{Outcome, Verdict};

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
            writeln!(
                out,
                "INVALID  {} (FSPIOP {} {})",
                reason.code(),
                error.code(),
                error.description()
            )?;
            writeln!(out, "         {}", verdict.message())?;
        }
        _ => writeln!(out, "INVALID  {}", verdict.message())?,
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
        write_diagnosis(out, diagnosis)?;
    }
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
