//! A series change reaching every member: the real binary, an N-member roster (default 1,000,
//! env `BENCH_MEMBERS`), an in-process SMTP server, all on loopback.
//!
//! Measures (1) the start-up pass that invites all N members, and (2) after the meeting time
//! changes in the config file, the time from saving the file to the SMTP server's acceptance of
//! the N-th update; and the server's peak RSS (VmHWM).
//!
//! `cargo bench --bench series_update` (release), or `cargo test --bench series_update` (debug,
//! 20 members, as a smoke test).

// The integration-test harness; a bench uses only a small part of it.
#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, unused_imports)]
mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let smoke = std::env::args().all(|a| a != "--bench");
    let members: usize = std::env::var("BENCH_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if smoke { 20 } else { 1000 });
    let roster: String = (0..members)
        .map(|i| format!("\n[[member]]\ngithub = \"member-{i}\"\nname = \"Member {i}\"\nemail = \"member-{i}@example.org\"\n"))
        .fold(DEFAULT_ROSTER.to_string(), |text, entry| text + &entry);
    let wait = Duration::from_secs(600);
    let started = Instant::now();
    let app = App::start_with(|o| {
        o.roster = Some(roster);
        o.rust_log =
            std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn,invitebot::server=info".into());
    })
    .await;
    let mails = app.server.wait_for_mail(&app.smtp, members, wait).await;
    let invited = mails[members - 1].received_at.duration_since(started);

    let ws = app.server.workspace();
    let saved = Instant::now();
    ws.write_config(&ws.config_text().replace(
        "first = \"2024-05-06T08:00\"",
        "first = \"2024-05-06T09:00\"",
    ));
    let mails = app.server.wait_for_mail(&app.smtp, 2 * members, wait).await;
    let updated = mails[2 * members - 1].received_at.duration_since(saved);
    assert!(mails[members..].iter().all(|m| {
        m.subject()
            .unwrap_or_default()
            .starts_with("Updated invitation")
    }));
    // A maintainer adds one member by editing the roster file: save -> SMTP acceptance.
    let mut roster_text = ws.roster_text();
    let mut saves = Vec::new();
    for round in 0..10 {
        roster_text.push_str(&format!(
            "\n[[member]]\ngithub = \"late-{round}\"\nemail = \"late-{round}@example.org\"\n"
        ));
        let saved = Instant::now();
        ws.write_roster(&roster_text);
        let mails = app
            .server
            .wait_for_mail(&app.smtp, 2 * members + round + 1, wait)
            .await;
        saves.push(mails[2 * members + round].received_at.duration_since(saved));
    }
    saves.sort();
    let peak = peak_rss_kib(app.server.pid());
    if std::env::var("BENCH_LOG").is_ok() {
        eprintln!("{}", app.server.logs());
    }
    println!(
        "{members} members: start-up invitations {:.2} s ({:.2} ms/member); series update {:.2} s ({:.2} ms/member); {} messages; roster save -> SMTP acceptance median {:.0} ms (min {:.0}, max {:.0}, 10 saves); server peak RSS {} KiB",
        invited.as_secs_f64(),
        invited.as_secs_f64() * 1000.0 / members as f64,
        updated.as_secs_f64(),
        updated.as_secs_f64() * 1000.0 / members as f64,
        2 * members,
        saves[saves.len() / 2].as_secs_f64() * 1000.0,
        saves[0].as_secs_f64() * 1000.0,
        saves[saves.len() - 1].as_secs_f64() * 1000.0,
        peak
    );
}

/// The peak resident set size of a process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
