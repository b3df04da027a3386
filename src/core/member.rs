//! A member of a meeting series, as the roster lists them.

use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;

/// One person on the roster.
///
/// `Debug` is safe to log: the email address prints redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The GitHub login, as written in the file.
    pub github: Login,
    /// The display name; the login when the file gives none.
    pub name: String,
    /// The address invitations go to.
    pub email: EmailAddress,
    /// The local date the member was added, if recorded.
    pub added: Option<jiff::civil::Date>,
    /// Where the request came from (e.g. `owner/repo#12`), if recorded.
    pub via: Option<String>,
}
