//! The public meetings page in a real browser: headless Chromium (Debian's `chromium`, which
//! `scripts/test-deps` installs) driven by puppeteer-core (`scripts/interop/meetings-page.mjs`,
//! pinned in `scripts/interop/package-lock.json`) loads the page from the real server at
//! desktop width and at 375 and 320 px, and once without JavaScript. Any console error or
//! warning, page error, failed request or Content Security Policy violation fails the test; so
//! does a page wider than a phone's screen, a wrong Join or Subscribe link, or a meeting not
//! shown in the visitor's own time zone (the inline script, allowed by its hash, must run).
//! The screenshots go to the test's scratch folder (`target/tmp/screenshots/`), or to the folder
//! named by `INVITEBOT_SCREENSHOTS` (`INVITEBOT_SCREENSHOTS=docs/screenshots` refreshes the
//! README's), so a test run leaves the checkout as it was.
//!
//! Needs what `scripts/test-deps` installs; fails (does not skip) without it.

use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::meetings::{upcoming_dates, with_changes};

/// Runs the browser script against `url`, screenshots into `dir`: its report.
fn browse(url: &str, dir: &Path) -> Value {
    let stdout = run_test_script(
        "node",
        "scripts/interop/meetings-page.mjs",
        &[url.as_ref(), dir.as_os_str()],
    );
    serde_json::from_slice(&stdout).expect("the script prints JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_newcomer_sees_the_next_meetings_in_their_own_time_and_the_right_links() {
    let app = App::start_with(|opts| {
        with_changes(opts);
        // As the shipped config has it (the README shows the screenshot).
        opts.repo = "InnerSourceCommons/innersource-working-group".into();
        opts.title = "InnerSource Working Group".into();
        opts.description = "Biweekly call of the InnerSource Commons working group.".into();
    })
    .await;
    let screenshots = match std::env::var_os("INVITEBOT_SCREENSHOTS") {
        Some(dir) => Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
    };
    std::fs::create_dir_all(&screenshots).unwrap();
    let url = format!("{}/", app.server.base_url());
    let report = tokio::task::spawn_blocking({
        let screenshots = screenshots.clone();
        move || browse(&url, &screenshots)
    })
    .await
    .unwrap();
    println!("browser: {}", report["version"]);

    let feed = "/calendar/ispo-wg.ics";
    let join = "https://github.com/InnerSourceCommons/innersource-working-group/issues/new?template=join-meeting.yml";
    let webcal = format!("webcal://{}{feed}", app.server.addr());
    // The next meeting (the first upcoming date, 08:00 in Los Angeles) in the visitor's zone.
    let next = upcoming_dates(1)[0]
        .at(8, 0, 0, 0)
        .in_tz("America/Los_Angeles")
        .unwrap()
        .in_tz("Europe/Berlin")
        .unwrap();
    // As the browser's locale writes it: 17:00 or 05:00 PM.
    let next_in_berlin = [next.strftime("%H:%M"), next.strftime("%I:%M %p")].map(|t| t.to_string());

    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for run in runs {
        let name = run["name"].as_str().unwrap();
        let context = format!("{name}: {run:#}");
        assert_eq!(run["status"], 200, "{context}");
        for problems in ["console", "pageErrors", "failed", "violations"] {
            assert!(
                strings(&run[problems]).is_empty(),
                "{problems} in {context}"
            );
        }
        assert_eq!(run["widerThanScreen"], false, "{context}");
        assert_eq!(run["lang"], "en", "{context}");
        assert_eq!(strings(&run["landmarks"]), ["header", "main", "footer"]);
        assert_eq!(strings(&run["join"]), [join], "{context}");
        assert_eq!(strings(&run["subscribe"]), [webcal.as_str()], "{context}");
        assert_eq!(strings(&run["feed"]), [feed], "{context}");
        assert_eq!(run["feedStatus"], 200, "{context}");
        assert_eq!(run["feedType"], "text/calendar; charset=utf-8");
        assert_eq!(run["feedFirstLine"], "BEGIN:VCALENDAR");
        assert_eq!(strings(&run["meetings"]).len(), 5, "{context}");
        let yours = strings(&run["yours"]);
        if run["javascript"] == true {
            // Every meeting held (4 of the 5: one is cancelled) in the visitor's own time.
            assert_eq!(yours.len(), 4, "{context}");
            assert!(
                yours[0].starts_with("Your time: ")
                    && next_in_berlin.iter().any(|t| yours[0].contains(t.as_str())),
                "{next_in_berlin:?} in {yours:?}"
            );
            assert!(
                strings(&run["zoneNote"])[0].contains("Europe/Berlin"),
                "{context}"
            );
            let shot = run["screenshot"].as_str().unwrap();
            let size = std::fs::metadata(shot).unwrap().len();
            assert!(size > 10_000, "{shot}: {size} bytes");
        } else {
            assert!(yours.is_empty(), "{context}");
        }
    }
}
