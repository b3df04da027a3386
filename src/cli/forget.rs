//! `invitebot roster forget`: erases a person ([`invitebot::erasure`]) and prints what was done,
//! never an address.

use invitebot::config::Config;
use invitebot::erasure::{self, ErasureReport, ForgetRequest, Person};

use super::series::find_series;

/// Erases `person` from one series or all; prints each step done, also when a later one
/// failed.
pub fn run(
    config: &Config,
    person: Person<'_>,
    series_id: Option<&str>,
    skip_cancel: bool,
) -> anyhow::Result<()> {
    let series = series_id.map(|id| find_series(config, id)).transpose()?;
    let request = ForgetRequest {
        person,
        series,
        skip_cancel,
    };
    let mut report = ErasureReport::default();
    let result = erasure::forget(config, &request, &mut report);
    let who = match person {
        Person::Login(login) => login,
        Person::Email(_) => "the address",
    };
    print_report(who, &report);
    Ok(result?)
}

/// One line per roster, one for the state store, one for the mail files (`who` names the
/// person, never by address).
fn print_report(login: &str, report: &ErasureReport) {
    for roster in &report.rosters {
        match &roster.removed {
            Some(github) => println!(
                "removed {github} from {} ({})",
                roster.series_id,
                roster.roster.display()
            ),
            None => println!("{login} is not on {}", roster.series_id),
        }
    }
    if let Some(store) = &report.store {
        let erased = &store.erased;
        println!(
            "state store {}: {} sent record(s) and {} mail failure(s) deleted, {} request(s) erased, {} pending confirmation(s) deleted",
            store.path.display(),
            erased.sent_records,
            erased.mail_failures,
            erased.requests_redacted,
            erased.requests_deleted
        );
    }
    if let Some(files) = &report.mail_files {
        println!(
            "{} mail file(s) addressed to them deleted from {}",
            files.deleted,
            files.dir.display()
        );
    }
}
