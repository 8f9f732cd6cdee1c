//! Filters that tell a real secret from its look-alikes, after a rule's regex has matched:
//! [`accept`] runs them in this order, each cheaper or more common than the next:
//! 1. the rule's own allowed values (`allow_values`);
//! 2. entropy (`min_entropy`; [`randomness`]);
//! 3. placeholders (`AKIA…EXAMPLE`, `xxxx`, `123456`; [`placeholders`]);
//! 4. the rule's structural check ([`validate`]): a DER private key, a complete PEM body, a
//!    JWT that grants something ([`structure`]), a password on a real host or in a real
//!    connection string ([`urls`]), a Basic auth header's password;
//! 5. for the generic rules, which match any value assigned to a name like `api_key` or
//!    `password`, the many things such a value can be instead ([`assigned`], reading what
//!    the name says with [`name`]): a reference to the environment or a secret manager, a
//!    template, a path, an identifier, a hash, a UUID, a label.
//!
//! The words these filters look for are data: `words.toml`, compiled in by `build.rs`
//! ([`words`]).

mod assigned;
mod name;
mod placeholders;
mod randomness;
mod structure;
mod urls;
mod words;

pub(crate) use assigned::{assigned_value_is_secret, is_code_path};
pub(crate) use placeholders::{has_placeholder_word, looks_like_placeholder};
pub(crate) use randomness::entropy;
pub(crate) use structure::is_der_private_key;

use crate::rules::{Rule, Validator};
use std::ops::Range;

/// Whether a rule's match `data[secret]` (assigned to `name`, when its pattern names one) is
/// a finding: the filters above, in their order. `code` says the file is source code (see
/// [`assigned_value_is_secret`]).
pub(super) fn accept(
    rule: &Rule,
    data: &[u8],
    secret: Range<usize>,
    name: Option<&[u8]>,
    code: bool,
) -> bool {
    let value = &data[secret.clone()];
    if rule.allow_values.iter().any(|v| v.as_bytes() == value) {
        return false;
    }
    if rule.min_entropy.is_some_and(|min| entropy(value) < min) {
        return false;
    }
    if rule.placeholder_filter && looks_like_placeholder(value) {
        return false;
    }
    if rule
        .validate
        .is_some_and(|v| !validate(v, data, secret.clone()))
    {
        return false;
    }
    !rule.assignment || assigned_value_is_secret(name.unwrap_or_default(), data, secret, code)
}

/// Runs a rule's structural check on the value `data[value]`.
pub(crate) fn validate(validator: Validator, data: &[u8], value: Range<usize>) -> bool {
    let v = &data[value.clone()];
    match validator {
        // On a single-label host (`db`: a compose service) the password is judged like any
        // value, as a literal with no name.
        Validator::UrlCredentials => urls::url_password(data, value.clone())
            .unwrap_or_else(|| assigned::value_is_secret(b"", data, value, true, false)),
        Validator::ConnectionPassword => urls::connection_password(data, value),
        Validator::DerPrivateKey => is_der_private_key(v),
        Validator::PemBody => !structure::is_truncated_der(v),
        Validator::Jwt => structure::is_private_jwt(v),
        Validator::BasicAuth => {
            let Some(decoded) = crate::scan::decode::base64(v) else {
                return false;
            };
            match memchr::memchr(b':', &decoded) {
                Some(colon) if colon > 0 => {
                    assigned::value_is_secret(b"", &decoded, colon + 1..decoded.len(), true, false)
                }
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_by_their_place() {
        let line = |s: &str, v: &str| {
            let at = s.find(v).expect("value in line");
            validate(
                Validator::ConnectionPassword,
                s.as_bytes(),
                at..at + v.len(),
            )
        };
        // Assembled at run time: this file is scanned too.
        let word = format!("Summer{}!", 2024);
        let real = format!("Server=db01.acme.io;Uid=etl;Pwd={word};");
        assert!(line(&real, &word));
        assert!(!line(&real.replace("db01.acme.io", "localhost"), &word));
        assert!(!line(
            "Server=db01.acme.io;Uid=etl;Pwd=changeme;",
            "changeme"
        ));
        let url = |s: &str, v: &str| {
            let at = s.find(v).expect("value in line");
            validate(Validator::UrlCredentials, s.as_bytes(), at..at + v.len())
        };
        let atlas = format!(
            "mongodb+srv://app:{}@cluster0.ab1cd.mongodb.net/x",
            "sunshine"
        );
        assert!(url(&atlas, "sunshine"));
        assert!(!url("postgres://app:app@db.acme.io/x", "app"));
        assert!(!url("postgres://app:sunshine@db/x", "sunshine"));
    }
}
