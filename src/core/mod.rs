//! The pure vocabulary and rules of invitebot: no I/O, and no import from outside `core`.
//!
//! - Identity: [`identity`] (repository and team names), [`email_address`] (an address valid by
//!   construction, redacted in logs).
//! - The series: [`series`] (a meeting series and how its requests are recognised and answered),
//!   [`series_event`] (what members' calendars hold for it), [`calendar`] (recurrence,
//!   `VTIMEZONE`, the `.ics` text).
//! - Requests: [`webhook_event`] (GitHub's payload types), [`request`] (which issue asks what of
//!   which series, with which address), [`job`] (what a job asks and how a request ended),
//!   [`reply`] (what the bot writes on the issue), [`command`] (maintainers' commands in issue
//!   comments).
//! - Members: [`member`] (a roster entry), [`sent`] (the record of what calendars were sent),
//!   [`plan`] (what to send so calendars match the files).
//! - Rules: [`retry`] (when to try again), [`texts`] (what people read), [`html`] (text made
//!   safe for the pages).
//! - Helpers: [`source_position`] (line and column of a byte offset, for error messages).

pub mod calendar;
pub mod command;
pub mod email_address;
pub mod html;
pub mod identity;
pub mod job;
pub mod member;
pub mod plan;
pub mod reply;
pub mod request;
pub mod retry;
pub mod sent;
pub mod series;
pub mod series_event;
pub mod source_position;
pub mod texts;
pub mod webhook_event;
