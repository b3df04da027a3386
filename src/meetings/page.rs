//! `GET /`: the public meetings page. One plain, server-rendered HTML page: per series its
//! title, description, cadence, next meetings (in the series' zone and UTC, moved and cancelled
//! ones marked with their note) and three actions: Join (the repository's issue form),
//! Subscribe (the feed) and how to leave.
//!
//! It is complete without JavaScript; one small inline script, allowed by its hash in the
//! page's `Content-Security-Policy` (and nothing else is), adds each meeting in the visitor's
//! own time zone. Nothing on it comes from a roster: no names, logins, counts or addresses.

use std::sync::LazyLock;

use base64::Engine;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::core::calendar::{Meeting, MeetingStatus};
use crate::core::html::escape;
use crate::core::series::Series;
use crate::core::texts;

/// How many meetings each series lists.
pub const NEXT_MEETINGS: usize = 5;

/// The page's style sheet (inline, allowed by its hash).
const STYLE: &str = "\
:root{color-scheme:light;--ink:#1b1b1b;--muted:#4a4a4a;--accent:#0b57d0;--line:#d0d4da}\
*{box-sizing:border-box}\
body{margin:0;font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:#fff;overflow-wrap:anywhere}\
header,main,footer{max-width:46rem;margin:0 auto;padding:0 1rem}\
header{padding-top:1.5rem}\
h1{font-size:1.6rem;margin:0 0 .25rem}\
h2{font-size:1.3rem;margin:0 0 .25rem}\
h3{font-size:1rem;margin:1rem 0 .25rem}\
a{color:var(--accent)}\
.series{border-top:1px solid var(--line);padding:1.25rem 0}\
.cadence{color:var(--muted);margin:.25rem 0}\
.meetings{list-style:none;padding:0;margin:0}\
.meetings li{padding:.5rem 0;border-bottom:1px solid var(--line)}\
.meetings li:last-child{border-bottom:0}\
.utc,.yours{display:block;color:var(--muted);font-size:.95rem}\
.yours{color:var(--ink)}\
.tag{display:inline-block;font-size:.85rem;font-weight:600;padding:0 .4rem;border-radius:.25rem;margin-right:.25rem}\
.next .tag{background:#e3ecfb;color:#0a3d91}\
.moved .tag{background:#fff1c2;color:#5c4300}\
.cancelled .tag{background:#fde7e7;color:#8a1414}\
.cancelled time{text-decoration:line-through}\
.note::before{content:\"\\2014 \"}\
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0 .5rem}\
.button{display:inline-block;padding:.55rem 1rem;border-radius:.375rem;border:2px solid var(--accent);text-decoration:none;font-weight:600}\
.join{background:var(--accent);color:#fff}\
.subscribe{background:#fff;color:var(--accent)}\
.button:focus-visible,a:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}\
.small{font-size:.95rem;color:var(--muted)}\
footer{padding-bottom:2rem;color:var(--muted);font-size:.95rem}";

/// The script that adds each meeting in the visitor's time zone (inline, allowed by its hash).
const SCRIPT: &str = "\
(function(){\
var zone;try{zone=Intl.DateTimeFormat().resolvedOptions().timeZone;}catch(e){return;}\
var format=new Intl.DateTimeFormat(undefined,{weekday:'long',day:'numeric',month:'long',year:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'});\
var times=document.querySelectorAll('time[data-start]');\
for(var i=0;i<times.length;i++){\
var out=times[i].parentNode.querySelector('.yours');if(!out){continue;}\
out.textContent='Your time: '+format.format(new Date(times[i].getAttribute('datetime')));\
out.hidden=false;}\
var note=document.getElementById('your-zone');\
if(note&&zone){note.textContent='\"Your time\" is in '+zone+', the time zone of your device.';note.hidden=false;}\
})();";

/// The page's `Content-Security-Policy`: nothing but its own style and script, by hash.
pub static POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        sha256_source(STYLE),
        sha256_source(SCRIPT)
    )
});

/// A CSP hash source (`sha256-…`) for an inline element's text.
fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Where a series' feed is: `https://…/calendar/{id}.ics` (or a path, when the address people
/// use is not known) and `webcal://…`, which calendar apps open as a subscription.
pub struct FeedLinks {
    /// `https://host/base` or `` (links relative to the page).
    pub https_base: String,
    /// `webcal://host/base`, if the host is known.
    pub webcal_base: Option<String>,
}

impl FeedLinks {
    fn https(&self, series: &Series) -> String {
        format!("{}{}", self.https_base, feed_path(series))
    }

    fn webcal(&self, series: &Series) -> Option<String> {
        let base = self.webcal_base.as_ref()?;
        Some(format!("{base}{}", feed_path(series)))
    }
}

/// `/calendar/{id}.ics`.
pub fn feed_path(series: &Series) -> String {
    format!("/calendar/{}.ics", series.id)
}

/// The whole page for `series` at `now`.
pub fn render(series: &[Series], now: Timestamp, links: &FeedLinks) -> String {
    let sections: String = series.iter().map(|s| section(s, now, links)).collect();
    let title = match series {
        [one] => format!("{}: open meetings", escape(&one.title)),
        _ => "Open meetings".to_string(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head>\n<body>\
<header><h1>Open meetings</h1><p class=\"small\">Anyone may join or follow along. Times are in each series' own time zone and in UTC.</p>\
<p class=\"small\" id=\"your-zone\" hidden></p></header>\n\
<main>{sections}</main>\n\
<footer><p>To follow along without joining, subscribe: your calendar app adds the meetings and keeps them up to date; remove the subscription in the app to stop. Joining sends you a calendar invitation by email; your address is never shown.</p></footer>\
<script>{SCRIPT}</script></body></html>\n"
    )
}

/// One series: what, when, the next meetings and the actions.
fn section(series: &Series, now: Timestamp, links: &FeedLinks) -> String {
    let id = escape(&series.id);
    let description = if series.description.trim().is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", escape(&series.description))
    };
    let meetings = series.schedule.next_meetings(now, NEXT_MEETINGS);
    let next_held = meetings.iter().position(Meeting::is_held);
    let items: String = meetings
        .iter()
        .enumerate()
        .map(|(i, m)| meeting_item(m, Some(i) == next_held))
        .collect();
    let list = if items.is_empty() {
        "<p>No meetings to come: the series has ended.</p>".to_string()
    } else {
        format!("<ol class=\"meetings\">{items}</ol>")
    };
    let subscribe = match links.webcal(series) {
        Some(webcal) => format!(
            "<a class=\"button subscribe\" href=\"{}\">Subscribe</a>",
            escape(&webcal)
        ),
        None => String::new(),
    };
    let https = escape(&links.https(series));
    format!(
        "<section class=\"series\" aria-labelledby=\"series-{id}\"><h2 id=\"series-{id}\">{title}</h2>{description}\
<p class=\"cadence\">{cadence}</p>\
<div class=\"actions\"><a class=\"button join\" href=\"{join}\">Join</a>{subscribe}</div>\
<p class=\"small\">Calendar feed: <a class=\"feed\" href=\"{https}\">{https}</a> (to subscribe by address in Google Calendar, Outlook or any other app).</p>\
<h3>Next meetings</h3>{list}\
<p class=\"small\">How to leave: {leave} Or use the leave link in any invitation.</p></section>\n",
        title = escape(&series.title),
        cadence = escape(&capitalised(&texts::cadence(&series.schedule))),
        join = escape(&series.join_url()),
        leave = escape(&texts::how_to_leave(&series.repo.to_string())),
    )
}

/// One meeting: its time in the series' zone and in UTC, its status and note.
fn meeting_item(meeting: &Meeting, next: bool) -> String {
    let start = &meeting.occurrence.start;
    let local = start.strftime("%A %-d %B %Y, %H:%M %Z").to_string();
    let utc = start
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .strftime("%a %-d %b %H:%M UTC")
        .to_string();
    let (class, tag) = match &meeting.status {
        MeetingStatus::Cancelled => ("cancelled", "Cancelled".to_string()),
        MeetingStatus::Moved { from } => (
            "moved",
            format!("Moved from {}", from.start.strftime("%A %-d %B %H:%M")),
        ),
        MeetingStatus::Regular if next => ("next", "Next".to_string()),
        MeetingStatus::Regular => ("", String::new()),
    };
    let class = match (class, next) {
        ("moved", true) => "moved next",
        (class, _) => class,
    };
    let tag = if tag.is_empty() {
        String::new()
    } else {
        format!("<span class=\"tag\">{}</span>", escape(&tag))
    };
    let note = meeting.note.as_deref().map_or_else(String::new, |n| {
        format!(" <span class=\"note\">{}</span>", escape(n))
    });
    // A cancelled meeting gets no "your time": there is nothing to attend.
    let (data, yours) = if meeting.is_held() {
        (" data-start", "<span class=\"yours\" hidden></span>")
    } else {
        ("", "")
    };
    format!(
        "<li class=\"{class}\">{tag}<time datetime=\"{at}\"{data}>{local}</time>{note}<span class=\"utc\">{utc}</span>{yours}</li>",
        at = start.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ"),
        local = escape(&local),
        utc = escape(&utc),
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{Change, Exception, Schedule, ScheduleSpec};
    use crate::core::series::testing::sample_series;

    fn links() -> FeedLinks {
        FeedLinks {
            https_base: "https://bot.example.org".into(),
            webcal_base: Some("webcal://bot.example.org".into()),
        }
    }

    fn changed_series() -> Series {
        let mut series = sample_series();
        series.title = "ISPO <WG> & friends".into();
        series.schedule = Schedule::from_spec(ScheduleSpec {
            tz_name: "America/Los_Angeles",
            first: "2024-05-06T08:00".parse().unwrap(),
            duration_minutes: 60,
            interval_weeks: 2,
            skip: vec![],
            exceptions: vec![
                Exception {
                    date: "2026-12-28".parse().unwrap(),
                    change: Change::Cancelled,
                    note: Some("Holidays <b>".into()),
                },
                Exception {
                    date: "2027-01-11".parse().unwrap(),
                    change: Change::Moved {
                        to: "2027-01-12T09:00".parse().unwrap(),
                    },
                    note: Some("Room taken".into()),
                },
            ],
            until: None,
        })
        .unwrap();
        series
    }

    #[test]
    fn the_page_lists_the_next_meetings_with_their_changes_and_the_actions() {
        let html = render(
            &[changed_series()],
            "2026-12-10T00:00:00Z".parse().unwrap(),
            &links(),
        );
        for expected in [
            "<html lang=\"en\">",
            "<main>",
            "<h2 id=\"series-ispo-wg\">ISPO &lt;WG&gt; &amp; friends</h2>",
            "Every other Monday, 08:00 America/Los_Angeles, 60 minutes",
            "href=\"https://github.com/InnerSourceCommons/ispo-working-group/issues/new?template=join-meeting.yml\"",
            "href=\"webcal://bot.example.org/calendar/ispo-wg.ics\"",
            "href=\"https://bot.example.org/calendar/ispo-wg.ics\"",
            "<li class=\"next\"><span class=\"tag\">Next</span><time datetime=\"2026-12-14T16:00:00Z\" data-start>Monday 14 December 2026, 08:00 PST</time><span class=\"utc\">Mon 14 Dec 16:00 UTC</span>",
            "<li class=\"cancelled\"><span class=\"tag\">Cancelled</span><time datetime=\"2026-12-28T16:00:00Z\">Monday 28 December 2026, 08:00 PST</time> <span class=\"note\">Holidays &lt;b&gt;</span>",
            "<li class=\"moved\"><span class=\"tag\">Moved from Monday 11 January 08:00</span><time datetime=\"2027-01-12T17:00:00Z\" data-start>Tuesday 12 January 2027, 09:00 PST</time> <span class=\"note\">Room taken</span>",
            "How to leave: To leave the series, open an issue titled",
        ] {
            assert!(html.contains(expected), "{expected}\n{html}");
        }
        assert_eq!(html.matches("<li ").count(), NEXT_MEETINGS);
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_style_and_script() {
        let html = render(&[sample_series()], Timestamp::UNIX_EPOCH, &links());
        let inline = |tag: &str| {
            let open = format!("<{tag}>");
            let start = html.find(&open).unwrap() + open.len();
            let end = html[start..].find(&format!("</{tag}>")).unwrap() + start;
            html[start..end].to_string()
        };
        assert!(POLICY.contains(&sha256_source(&inline("style"))));
        assert!(POLICY.contains(&sha256_source(&inline("script"))));
        assert!(POLICY.starts_with("default-src 'none';"));
        assert!(!POLICY.contains("unsafe"));
    }

    #[test]
    fn without_a_known_host_the_feed_link_is_relative_and_there_is_no_webcal_link() {
        let links = FeedLinks {
            https_base: String::new(),
            webcal_base: None,
        };
        let html = render(&[sample_series()], Timestamp::UNIX_EPOCH, &links);
        assert!(html.contains("href=\"/calendar/ispo-wg.ics\""), "{html}");
        assert!(!html.contains("webcal:"), "{html}");
    }
}
