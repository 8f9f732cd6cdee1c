//! SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, Azure DevOps, GitLab):
//! one rule per rule id that has a finding, one result per finding, with the keyward
//! fingerprint as a partial fingerprint so a dashboard tracks a finding across commits. The
//! message carries the redacted preview, never the secret.

use super::Report;
use crate::model::{date, Allowance, Finding, Kind, Outcome, Place};
use serde_json::{json, Value};
use std::io;

/// The SARIF report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sarif;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where to read about keyward (the driver's `informationUri`): the package's repository,
/// when `Cargo.toml` names one (`repository`), else its homepage.
const INFORMATION_URI: Option<&str> = match (
    option_env!("CARGO_PKG_REPOSITORY"),
    option_env!("CARGO_PKG_HOMEPAGE"),
) {
    (Some(r), _) if !r.is_empty() => Some(r),
    (_, Some(h)) if !h.is_empty() => Some(h),
    _ => None,
};

/// Why keeping secrets out of files matters, for the forbidden-file rules: the Twelve-Factor
/// App's configuration chapter (store config in the environment), which the guidance
/// keyward gives (`.env.local`, a secret manager) follows.
const CONFIG_IN_THE_ENVIRONMENT: &str = "https://12factor.net/config";

impl Report for Sarif {
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        let mut rules: Vec<(&str, &Finding)> = Vec::new();
        for f in &outcome.findings {
            if !rules.iter().any(|(id, _)| *id == f.rule_id) {
                rules.push((&f.rule_id, f));
            }
        }
        let rule_values: Vec<Value> = rules
            .iter()
            .map(|(id, f)| {
                let mut rule = json!({
                    "id": id,
                    "name": f.rule_name,
                    "shortDescription": { "text": f.rule_name },
                    "fullDescription": { "text": full_description(f) },
                    "help": { "text": help(f) },
                    "defaultConfiguration": { "level": level(f) },
                });
                if let Some(uri) = help_uri(f) {
                    rule["helpUri"] = json!(uri);
                }
                rule
            })
            .collect();
        let results: Vec<Value> = outcome
            .findings
            .iter()
            .map(|f| {
                let rule_index = rules.iter().position(|(id, _)| *id == f.rule_id);
                let mut region = serde_json::Map::new();
                if let Some(line) = f.line {
                    region.insert("startLine".into(), json!(line));
                }
                if let Some(column) = f.column {
                    region.insert("startColumn".into(), json!(column));
                }
                // A file-level result (a forbidden file, a file not scanned) is about the
                // whole file: code scanning wants a region, and shows it on the first line.
                if region.is_empty() {
                    region.insert("startLine".into(), json!(1));
                }
                let mut location = json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.path) },
                    }
                });
                location["physicalLocation"]["region"] = Value::Object(region);
                let mut result = json!({
                    "ruleId": f.rule_id,
                    "ruleIndex": rule_index,
                    "level": level(f),
                    "message": { "text": message(f) },
                    "locations": [location],
                });
                if let Some(fp) = &f.fingerprint {
                    result["partialFingerprints"] = json!({ "keyward/v1": fp });
                }
                if let Some(a) = &f.allowed {
                    // SARIF's own record of a suppressed result: in the source (an inline
                    // marker) or outside it (the policy file), with why.
                    let (kind, why) = match a {
                        Allowance::Inline => ("inSource", "inline allow marker".to_owned()),
                        Allowance::Path(p) => ("external", format!("allow.paths: {p}")),
                        Allowance::File(p) => ("external", format!("allow.files: {p}")),
                        Allowance::Rule => ("external", format!("allow.rules: {}", f.rule_id)),
                        Allowance::Fingerprint(r) => {
                            ("external", format!("allow.fingerprints: {r}"))
                        }
                    };
                    result["suppressions"] = json!([{ "kind": kind, "justification": why }]);
                }
                let mut properties = serde_json::Map::new();
                if let Some(c) = &f.commit {
                    properties.insert("commit".into(), json!(c.id.to_string()));
                    properties.insert("authorDate".into(), json!(date(c.author_time)));
                }
                if f.pre_existing {
                    properties.insert("preExisting".into(), json!(true));
                }
                if !properties.is_empty() {
                    result["properties"] = Value::Object(properties);
                }
                result
            })
            .collect();
        let mut driver = json!({
            "name": "keyward",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rule_values,
        });
        if let Some(uri) = INFORMATION_URI {
            driver["informationUri"] = json!(uri);
        }
        let log = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": driver },
                "results": results,
            }]
        });
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}

fn level(f: &Finding) -> &'static str {
    if f.blocking {
        "error"
    } else if f.kind == Kind::NotScanned {
        "note"
    } else {
        "warning"
    }
}

/// A relative URI: the raw path's bytes percent-encoded where they are not URI-safe.
fn uri(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn message(f: &Finding) -> String {
    match f.kind {
        Kind::Secret => format!(
            "{} {} (fingerprint {}). Revoke or rotate it: {}",
            f.rule_name,
            f.preview.as_deref().unwrap_or(""),
            f.fingerprint.as_deref().unwrap_or(""),
            f.remedy
        ),
        Kind::ForbiddenFile => format!("{}: {}", f.rule_name, f.remedy),
        Kind::NotScanned | Kind::Warning => format!("{}: {}", f.rule_name, f.remedy),
    }
}

/// A rule's `fullDescription`: what it finds and why that blocks or warns.
fn full_description(f: &Finding) -> String {
    match f.kind {
        Kind::Secret => format!(
            "{}: a live credential in a file or message that git records. Anyone with a clone can use it until it is revoked.",
            f.rule_name
        ),
        Kind::ForbiddenFile => format!(
            "{}: a file that holds local configuration or credentials and must stay out of git: {}.",
            f.rule_name, f.remedy
        ),
        Kind::Warning => format!("{}: {}", f.rule_name, f.remedy),
        Kind::NotScanned => "A file over the size cap was named, not scanned.".into(),
    }
}

/// A rule's `helpUri`: for a key, the provider's page to revoke it (the rule's `revoke_url`);
/// for a forbidden file, why configuration belongs in the environment; else keyward's own
/// page, when known.
fn help_uri(f: &Finding) -> Option<&str> {
    match f.kind {
        Kind::Secret if f.remedy.starts_with("https://") => Some(&f.remedy),
        Kind::ForbiddenFile => Some(CONFIG_IN_THE_ENVIRONMENT),
        _ => INFORMATION_URI,
    }
}

fn help(f: &Finding) -> String {
    match f.kind {
        Kind::Secret if f.place == Place::Message => format!(
            "Remove the key from the message; if it was shared anywhere, rotate it at {}. Not a secret: keyward allow FINGERPRINT --reason \"…\".",
            f.remedy
        ),
        Kind::Secret => format!(
            "Remove the key from the file and read it from the environment ({}); rotate it at {}. Not a secret: keyward allow FINGERPRINT --reason \"…\".",
            f.env_var.as_deref().filter(|e| !e.is_empty()).unwrap_or("an environment variable"),
            f.remedy
        ),
        _ => f.remedy.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_encode_the_raw_path_once() {
        assert_eq!(uri(b"we\\ird/.env"), "we%5Cird/.env");
        assert_eq!(uri(b"a b/\x1b.env"), "a%20b/%1B.env");
        assert_eq!(uri("é.py".as_bytes()), "%C3%A9.py");
    }
}
