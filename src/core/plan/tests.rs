use super::*;
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::series::testing::{sample_series, schedule};
use crate::core::series_event::EventSnapshot;

/// Roster members with these logins and addresses.
fn roster(members: &[(&str, &str)]) -> Vec<Member> {
    members
        .iter()
        .map(|(github, email)| Member {
            github: Login::new(github),
            name: github.to_string(),
            email: EmailAddress::parse(email).unwrap(),
            added: None,
            via: None,
        })
        .collect()
}

/// The sample series' event, at `first` (local) for `minutes`.
fn event_at(first: &str, minutes: u32) -> SeriesEvent {
    let mut series = sample_series();
    series.schedule = schedule("America/Los_Angeles", first, minutes, &[]);
    SeriesEvent::of(&series)
}

/// The sample series' event.
fn event() -> SeriesEvent {
    SeriesEvent::of(&sample_series())
}

/// The records the store would hold after `plan` ran completely.
fn after(plan: &SeriesPlan, before: &[MemberRecord]) -> (SeriesRecord, Vec<MemberRecord>) {
    let mut records: Vec<MemberRecord> = before.to_vec();
    for action in &plan.actions {
        let record = action.sent_record(&plan.record.fingerprint);
        records.retain(|r| r.github != record.github);
        records.push(record);
    }
    records.sort_by(|a, b| a.github.cmp(&b.github));
    (plan.record.clone(), records)
}

fn summary(plan: &SeriesPlan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::Request {
                member,
                sequence,
                reason,
            } => format!("REQUEST {} {} {reason:?}", member.github, sequence),
            Action::Cancel {
                github,
                email,
                sequence,
                reason,
                ..
            } => format!("CANCEL {github} {} {sequence} {reason:?}", email.expose()),
        })
        .collect()
}

#[test]
fn a_new_series_invites_everyone_at_sequence_zero() {
    let plan = plan_series(
        event(),
        &roster(&[("ada", "ada@example.org"), ("Bob", "bob@example.org")]),
        None,
        &[],
    );
    assert_eq!(summary(&plan), ["REQUEST ada 0 New", "REQUEST Bob 0 New"]);
    assert_eq!(plan.record.sequence, 0);
    assert_eq!(
        plan.counts(),
        Counts {
            invites: 2,
            updates: 0,
            cancels: 0
        }
    );
}

#[test]
fn an_unchanged_series_sends_nothing() {
    let members = roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let first = plan_series(event(), &members, None, &[]);
    let (record, sent) = after(&first, &[]);
    let second = plan_series(event(), &members, Some(&record), &sent);
    assert!(second.actions.is_empty(), "{:?}", summary(&second));
    assert_eq!(second.record, record);
    assert_eq!(second.counts().to_string(), "nothing to send");
}

#[test]
fn roster_changes_send_the_difference_only() {
    let (record, sent) = after(
        &plan_series(
            event(),
            &roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]),
            None,
            &[],
        ),
        &[],
    );
    // Bob leaves, Cy joins, Ada changes address (case-only changes are not changes).
    let next = roster(&[("ADA", "ada@new.example.org"), ("cy", "cy@example.org")]);
    let plan = plan_series(event(), &next, Some(&record), &sent);
    assert_eq!(
        summary(&plan),
        [
            "CANCEL ada ada@example.org 1 OldAddress",
            "REQUEST ADA 1 NewAddress",
            "REQUEST cy 0 New",
            "CANCEL bob bob@example.org 1 Removed",
        ]
    );
    assert_eq!(plan.record.sequence, 1);
    let (record, sent) = after(&plan, &sent);
    let same_case = roster(&[("ada", "Ada@New.Example.org"), ("cy", "cy@example.org")]);
    assert!(
        plan_series(event(), &same_case, Some(&record), &sent)
            .actions
            .is_empty()
    );
    // Bob comes back: his invitation must outrank his cancellation.
    let back = roster(&[
        ("ada", "ada@new.example.org"),
        ("cy", "cy@example.org"),
        ("bob", "bob@example.org"),
    ]);
    let plan = plan_series(event(), &back, Some(&record), &sent);
    assert_eq!(summary(&plan), ["REQUEST bob 2 Rejoined"]);
}

#[test]
fn an_event_change_updates_everyone_once_with_the_next_sequence() {
    let members = roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let (record, sent) = after(&plan_series(event(), &members, None, &[]), &[]);
    let later = event_at("2024-05-06T09:00", 60);
    let plan = plan_series(later.clone(), &members, Some(&record), &sent);
    assert_eq!(
        summary(&plan),
        ["REQUEST ada 1 Update", "REQUEST bob 1 Update"]
    );
    assert_eq!(plan.counts().updates, 2);
    let (record, sent) = after(&plan, &sent);
    assert!(
        plan_series(later, &members, Some(&record), &sent)
            .actions
            .is_empty()
    );
}

#[test]
fn each_one_off_change_updates_everyone_once() {
    use crate::core::calendar::{Change, Exception, Schedule, ScheduleSpec};
    let members = roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let (mut record, mut sent) = after(&plan_series(event(), &members, None, &[]), &[]);
    let with = |exceptions: Vec<Exception>, until: Option<&str>| {
        let mut series = sample_series();
        series.schedule = Schedule::from_spec(ScheduleSpec {
            tz_name: "America/Los_Angeles",
            first: "2024-05-06T08:00".parse().unwrap(),
            duration_minutes: 60,
            interval_weeks: 2,
            skip: Vec::new(),
            exceptions,
            until: until.map(|d| d.parse().unwrap()),
        })
        .unwrap();
        SeriesEvent::of(&series)
    };
    let cancel = Exception {
        date: "2026-12-28".parse().unwrap(),
        change: Change::Cancelled,
        note: Some("Holidays".into()),
    };
    let moved = Exception {
        date: "2027-01-11".parse().unwrap(),
        change: Change::Moved {
            to: "2027-01-12T09:00".parse().unwrap(),
        },
        note: None,
    };
    let steps = [
        with(vec![cancel.clone()], None),
        with(vec![cancel.clone(), moved.clone()], None),
        with(vec![cancel, moved], Some("2027-06-30")),
    ];
    for (step, event) in steps.into_iter().enumerate() {
        let sequence = step + 1;
        let plan = plan_series(event.clone(), &members, Some(&record), &sent);
        assert_eq!(
            summary(&plan),
            [
                format!("REQUEST ada {sequence} Update"),
                format!("REQUEST bob {sequence} Update")
            ]
        );
        (record, sent) = after(&plan, &sent);
        // Once sent, the same change sends nothing more.
        assert!(
            plan_series(event, &members, Some(&record), &sent)
                .actions
                .is_empty()
        );
    }
}

#[test]
fn a_half_finished_update_is_finished_at_the_same_sequence() {
    let members = roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let (record, sent) = after(&plan_series(event(), &members, None, &[]), &[]);
    let later = event_at("2024-05-06T08:00", 90);
    let plan = plan_series(later.clone(), &members, Some(&record), &sent);
    // Only Ada's update went out before a failure.
    let partial = SeriesPlan {
        actions: plan.actions[..1].to_vec(),
        ..plan.clone()
    };
    let (record, sent) = after(&partial, &sent);
    let retry = plan_series(later, &members, Some(&record), &sent);
    assert_eq!(summary(&retry), ["REQUEST bob 1 Update"]);
}

#[test]
fn cancelled_members_who_stay_off_the_roster_get_nothing_more() {
    let (record, sent) = after(
        &plan_series(event(), &roster(&[("ada", "ada@example.org")]), None, &[]),
        &[],
    );
    let plan = plan_series(event(), &roster(&[]), Some(&record), &sent);
    assert_eq!(summary(&plan), ["CANCEL ada ada@example.org 1 Removed"]);
    let (record, sent) = after(&plan, &sent);
    assert!(
        plan_series(event(), &roster(&[]), Some(&record), &sent)
            .actions
            .is_empty()
    );
    // A later update of the event doesn't reach Ada.
    let changed = plan_series(
        event_at("2024-05-06T08:00", 30),
        &roster(&[]),
        Some(&record),
        &sent,
    );
    assert!(changed.actions.is_empty());
    assert_eq!(changed.record.sequence, 2);
}

#[test]
fn a_removed_series_cancels_every_invited_member_above_their_sequence() {
    let members = roster(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let (record, sent) = after(&plan_series(event(), &members, None, &[]), &[]);
    let (record, sent) = after(
        &plan_series(
            event(),
            &roster(&[("ada", "ada@example.org")]),
            Some(&record),
            &sent,
        ),
        &sent,
    );
    let stored = EventSnapshot::parse("ispo-wg", &record.definition).unwrap();
    let plan = plan_removed_series(stored, &record, &sent);
    assert_eq!(
        summary(&plan),
        ["CANCEL ada ada@example.org 2 SeriesRemoved"]
    );
    assert!(plan.forget);
    assert_eq!(plan.event.uid, record.uid);
}
