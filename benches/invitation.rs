//! CPU time of building one invitation: the iCalendar text (with its `VTIMEZONE`), and the
//! whole iMIP message around it. `cargo bench --bench invitation` (criterion; medians and
//! confidence intervals in its output).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use invitebot::config::Config;
use invitebot::core::calendar::{Method, Person};
use invitebot::core::email_address::EmailAddress;
use invitebot::core::series_event::SeriesEvent;
use invitebot::mail::{CalendarMail, Mailer};

const CONFIG: &str = r#"[mail]
from = "ISPO Working Group <ispo-wg@example.org>"
transport = "file"
dir = "mail"

[[series]]
id = "ispo-wg"
repo = "InnerSourceCommons/ispo-working-group"
title = "ISPO Working Group"
description = "Biweekly call of the InnerSource Program Office working group."
location = "https://example.org/ispo-wg-call"
timezone = "America/Los_Angeles"
first = "2024-05-06T08:00"
duration_minutes = 60
skip = ["2024-12-30"]
organizer = { name = "ISPO Working Group", email = "ispo-wg@example.org" }
roster = "roster/ispo-wg.toml"

[series.match]
labels = ["meeting-invite"]
"#;

fn no_env(_: &str) -> Option<String> {
    None
}

fn invitation(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_source(&dir.path().join("invitebot.toml"), CONFIG, &no_env).unwrap();
    let event = SeriesEvent::of(&config.series[0]);
    let ada = Person {
        name: "Ada Lovelace".into(),
        email: EmailAddress::parse("ada@example.org").unwrap(),
    };
    let now = jiff::Timestamp::now();
    c.bench_function("invitation ics", |b| {
        b.iter(|| {
            black_box(&event)
                .invitation(black_box(&ada), Method::Request, 3, now)
                .to_ics()
        })
    });
    let mailer = Mailer::new(&config.mail).unwrap();
    let ics = event.invitation(&ada, Method::Request, 3, now).to_ics();
    c.bench_function("invitation ics + iMIP message", |b| {
        b.iter(|| {
            let ics = black_box(&event)
                .invitation(black_box(&ada), Method::Request, 3, now)
                .to_ics();
            let mail = CalendarMail {
                to: &ada,
                subject: "Invitation: ISPO Working Group",
                text: "Hello Ada,\n\nyou're invited.\n",
                ics: &ics,
                method: Method::Request,
            };
            mailer.build(&mail).unwrap().formatted()
        })
    });
    assert!(ics.contains("BEGIN:VTIMEZONE"));
}

criterion_group!(benches, invitation);
criterion_main!(benches);
