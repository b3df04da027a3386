//! Calendar: the pure part of an invitation (no I/O).
//!
//! - [`schedule`]: the recurrence of a series ([`Schedule`], [`Occurrence`]): every `n` weeks on
//!   the weekday of the first meeting, at the same wall time in the series' zone, until an
//!   optional end, with skipped, cancelled and moved meetings ([`Exception`]);
//!   [`Schedule::meetings`] lists them with their status ([`Meeting`]); [`DstNote`]s for
//!   meetings whose wall time falls in a DST gap or fold.
//! - [`vtimezone`](mod@vtimezone): the `VTIMEZONE` component, built from the tz database.
//! - [`ics`]: the `.ics` text of a `REQUEST` or `CANCEL` for one attendee ([`Invitation`]).
//!
//! The rules followed are those of `docs/invites.md` (RFC 5545, 5546, 6047).

pub mod ics;
pub mod schedule;
mod text;
pub mod vtimezone;

pub use ics::{Invitation, Method, PRODID, Person};
pub use schedule::{
    Change, DstNote, DstNoteEdge, DstNoteKind, Exception, Meeting, MeetingStatus, Occurrence,
    Schedule, ScheduleError, ScheduleSpec,
};
pub use text::is_hidden_format;
pub use vtimezone::vtimezone;
