//! Email addresses as personal data.
//!
//! [`EmailAddress`] is the only type the rest of the code uses for an address. It is valid by
//! construction, under one rule that is exactly what the mailer can send to: a plain dot-atom
//! local part in ASCII and a domain of dot-separated labels, ASCII or internationalised (IDNA: kept
//! in its punycode form, so the `To:` header is plain ASCII). Quoted local parts and IP literals
//! are refused with their own reason, so a requester can be asked for another address. The
//! result is checked once more by lettre's parser. Its `Debug` and `Display` forms are redacted
//! (`a***@example.org`), so an address cannot slip into a log line or an error by accident. The
//! real address is reachable only through [`EmailAddress::expose`], which the mail and calendar
//! code call where the address must appear.

use std::fmt;
use std::str::FromStr;

/// A syntactically valid email address whose printed forms are redacted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(lettre::Address);

/// Why a string is not a usable email address. Carries no part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    /// Not an address at all.
    #[error("not a valid email address (expected something like name@example.org)")]
    Malformed,
    /// A quoted local part (`"a b"@example.org`): valid for RFC 5322, not sent to here.
    #[error(
        "addresses with a quoted part before the @ are not supported; please use a plain address like name@example.org"
    )]
    QuotedLocalPart,
    /// An IP literal instead of a domain (`a@[192.0.2.1]`).
    #[error(
        "addresses with an IP address instead of a domain are not supported; please use a plain address like name@example.org"
    )]
    IpLiteral,
}

impl InvalidEmail {
    /// Whether the text is an address of a form this bot does not send to (rather than no
    /// address at all): the requester is asked for another one.
    pub fn is_unsupported_form(self) -> bool {
        self != InvalidEmail::Malformed
    }
}

/// The characters of RFC 5322's `atext`, besides ASCII letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

impl EmailAddress {
    /// Parses and validates an address. Surrounding white space is ignored; an
    /// internationalised domain is kept in its ASCII (punycode) form.
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let text = text.trim();
        let (local, domain) = text.rsplit_once('@').ok_or(InvalidEmail::Malformed)?;
        if local.starts_with('"') {
            return Err(InvalidEmail::QuotedLocalPart);
        }
        if domain.starts_with('[') {
            return Err(InvalidEmail::IpLiteral);
        }
        if !is_dot_atom(local) {
            return Err(InvalidEmail::Malformed);
        }
        let domain = ascii_domain(domain).ok_or(InvalidEmail::Malformed)?;
        // lettre accepts a domain without a dot ("user@localhost"); people joining a meeting
        // series have real addresses, and a dotless domain is almost always a typo.
        if !domain.contains('.') {
            return Err(InvalidEmail::Malformed);
        }
        let address = lettre::Address::new(local, domain).map_err(|_| InvalidEmail::Malformed)?;
        Ok(Self(address))
    }

    /// The real address, for the places that must use it: the `To:` header, the calendar's
    /// `ATTENDEE`, the roster file. Never pass it to a log macro.
    pub fn expose(&self) -> &str {
        self.0.as_ref()
    }

    /// The lettre form, for building messages.
    pub fn as_lettre(&self) -> &lettre::Address {
        &self.0
    }

    /// The domain part (not personal on its own; used e.g. for `Message-ID`).
    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    /// The redacted form used in logs: the first character of the local part, `***`, the domain.
    pub fn redacted(&self) -> String {
        let first: String = self.0.user().chars().take(1).collect();
        format!("{first}***@{}", self.0.domain())
    }

    /// Case-insensitive comparison, as people write the same address in different cases.
    pub fn same_mailbox(&self, other: &EmailAddress) -> bool {
        self.expose().eq_ignore_ascii_case(other.expose())
    }
}

/// Whether `local` is a dot-atom: `atext` runs separated by single dots.
fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(c))
        })
}

/// The domain in ASCII: as written when it is ASCII, else its IDNA (punycode) form. `None` for
/// a domain IDNA refuses or whose labels are not letters, digits and inner hyphens.
fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = if domain.is_ascii() {
        domain.to_string()
    } else {
        idna::domain_to_ascii_strict(domain).ok()?
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    (ascii.len() <= 253 && ascii.split('.').all(label_ok)).then_some(ascii)
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.redacted())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Stored (in the private state store) as the plain address; read back through [`EmailAddress::parse`].
impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl FromStr for EmailAddress {
    type Err = InvalidEmail;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_parse_and_expose_the_original() {
        for text in [
            "ada@example.org",
            " ada.lovelace+wg@mail.example.co.uk\r\n",
            "a@b.io",
        ] {
            let email = EmailAddress::parse(text).unwrap();
            assert_eq!(email.expose(), text.trim());
        }
    }

    #[test]
    fn invalid_addresses_are_rejected() {
        for text in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@localhost",
            "ada lovelace@example.org",
            "ada@example.org\r\nBcc: x@y.org",
            "<ada@example.org>",
        ] {
            assert_eq!(
                EmailAddress::parse(text),
                Err(InvalidEmail::Malformed),
                "{text:?}"
            );
        }
    }

    #[test]
    fn quoted_local_parts_and_ip_literals_are_refused_with_their_reason() {
        for (text, reason) in [
            (r#""a b"@example.org"#, InvalidEmail::QuotedLocalPart),
            (r#""ada"@example.org"#, InvalidEmail::QuotedLocalPart),
            ("x@[127.0.0.1]", InvalidEmail::IpLiteral),
            ("x@[IPv6:::1]", InvalidEmail::IpLiteral),
        ] {
            let error = EmailAddress::parse(text).unwrap_err();
            assert_eq!(error, reason, "{text:?}");
            assert!(error.is_unsupported_form());
            assert!(!error.to_string().contains(text), "{error}");
        }
        assert!(!InvalidEmail::Malformed.is_unsupported_form());
    }

    #[test]
    fn local_parts_must_be_plain_dot_atoms() {
        for text in [
            ".ada@example.org",
            "ada.@example.org",
            "a..da@example.org",
            "adä@example.org",
            "a(comment)@example.org",
            "a,b@example.org",
        ] {
            assert_eq!(
                EmailAddress::parse(text),
                Err(InvalidEmail::Malformed),
                "{text:?}"
            );
        }
        let odd = EmailAddress::parse("o'brien+wg/x=y@example.org").unwrap();
        assert_eq!(odd.expose(), "o'brien+wg/x=y@example.org");
    }

    #[test]
    fn internationalised_domains_are_kept_in_punycode() {
        let email = EmailAddress::parse("ada@bücher.example").unwrap();
        assert_eq!(email.expose(), "ada@xn--bcher-kva.example");
        assert_eq!(email.domain(), "xn--bcher-kva.example");
        for text in ["ada@exa mple.org", "ada@-example.org", "ada@example..org"] {
            assert_eq!(
                EmailAddress::parse(text),
                Err(InvalidEmail::Malformed),
                "{text:?}"
            );
        }
    }

    #[test]
    fn printed_forms_are_redacted() {
        let email = EmailAddress::parse("ada@example.org").unwrap();
        assert_eq!(email.to_string(), "a***@example.org");
        assert_eq!(format!("{email:?}"), "EmailAddress(a***@example.org)");
        assert!(!format!("{email} {email:?}").contains("ada@"));
    }

    #[test]
    fn same_mailbox_ignores_case() {
        let a = EmailAddress::parse("Ada@Example.org").unwrap();
        let b = EmailAddress::parse("ada@example.org").unwrap();
        assert!(a.same_mailbox(&b));
    }
}
