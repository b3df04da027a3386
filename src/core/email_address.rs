//! Email addresses as personal data.
//!
//! [`EmailAddress`] is the only type the rest of the code uses for an address. It is valid by
//! construction (checked by lettre's parser), and its `Debug` and `Display` forms are redacted
//! (`a***@example.org`), so an address cannot slip into a log line or an error by accident. The
//! real address is reachable only through [`EmailAddress::expose`], which the mail and calendar
//! code call where the address must appear.

use std::fmt;
use std::str::FromStr;

/// A syntactically valid email address whose printed forms are redacted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(lettre::Address);

/// Why a string is not a usable email address. Carries no part of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address (expected something like name@example.org)")]
pub struct InvalidEmail;

impl EmailAddress {
    /// Parses and validates an address. Surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let text = text.trim();
        let address = lettre::Address::from_str(text).map_err(|_| InvalidEmail)?;
        // lettre accepts a domain without a dot ("user@localhost"); people joining a meeting
        // series have real addresses, and a dotless domain is almost always a typo.
        if !address.domain().contains('.') && !address.domain().starts_with('[') {
            return Err(InvalidEmail);
        }
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
            assert_eq!(EmailAddress::parse(text), Err(InvalidEmail), "{text:?}");
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
