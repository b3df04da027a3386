//! `invitebot ics`: prints the invitation a new member would receive.

use anyhow::Context;
use jiff::Timestamp;

use invitebot::config::Config;
use invitebot::core::calendar::{Meeting, Method, Person};
use invitebot::core::email_address::EmailAddress;
use invitebot::core::series_event::SeriesEvent;
use invitebot::core::texts;
use invitebot::store::Store;

use super::series::named_or_first;

/// Prints the `METHOD:REQUEST` .ics for `attendee` in the series (default: the first), at the
/// sequence the store has reached; the next meeting held (moved and cancelled ones taken into
/// account) goes to stderr, so stdout stays the calendar.
pub fn run(
    config: &Config,
    series_id: Option<&str>,
    attendee: &str,
    name: &str,
) -> anyhow::Result<()> {
    let series = named_or_first(config, series_id)?;
    let email = EmailAddress::parse(attendee).context("--attendee")?;
    let attendee = Person {
        name: name.to_string(),
        email,
    };
    let store = Store::open_existing(&config.data_dir).context("reading the state store")?;
    let sequence = match store {
        Some(store) => store.series(&series.id)?.map_or(0, |r| r.sequence),
        None => 0,
    };
    let event = SeriesEvent::of(series);
    let now = Timestamp::now();
    match event.schedule.meetings(now).find(Meeting::is_held) {
        Some(next) => eprintln!("next meeting: {}", texts::meeting_line(&next)),
        None => eprintln!("next meeting: none (the series has ended)"),
    }
    print!(
        "{}",
        event
            .invitation(&attendee, Method::Request, sequence, now)
            .to_ics()
    );
    Ok(())
}
