//! The public meetings page (`GET /`) and the series' calendar feeds
//! (`GET /calendar/{series}.ics`) from the real server: what they show (and never show: member
//! data, even with a full roster), their caching headers and `304`s, the feed read like the
//! invitation (the same occurrences), `[server] page = false`, and the edge limits in front of
//! them. The page in a real browser is [`crate::meetings_browser`].

use std::net::Ipv4Addr;
use std::time::Duration;

use jiff::civil::Date;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

use crate::common::*;

const JOIN: &str = "issues.opened.join-request.json";
const FEED: &str = "/calendar/ispo-wg.ics";

/// Members whose logins, names and addresses must never be on the page or in a feed.
const MEMBERS: &[(&str, &str, &str)] = &[
    ("grace-hopper", "Grace Brewster Hopper", "grace@example.org"),
    ("kjohnson", "Katherine Johnson", "katherine@example.org"),
    ("mhamilton", "Margaret Hamilton", "margaret@example.org"),
];

/// A roster with [`MEMBERS`].
fn full_roster() -> String {
    MEMBERS.iter().fold(DEFAULT_ROSTER.to_string(), |roster, (login, name, email)| {
        format!("{roster}\n[[member]]\ngithub = \"{login}\"\nname = \"{name}\"\nemail = \"{email}\"\n")
    })
}

/// The next meeting dates of the test series (every other Monday from 2024-05-06) after
/// tomorrow, so none of them is under way.
pub fn upcoming_dates(n: usize) -> Vec<Date> {
    let tomorrow = jiff::Zoned::now().date().tomorrow().unwrap();
    let first = jiff::civil::date(2024, 5, 6);
    (0..)
        .map(|k| first.checked_add(jiff::Span::new().days(14 * k)).unwrap())
        .filter(|d| *d > tomorrow)
        .take(n)
        .collect()
}

/// The series config with the second upcoming meeting cancelled and the third moved to the next
/// day at 09:00, each with a note.
pub fn with_changes(opts: &mut ServerOptions) {
    let dates = upcoming_dates(3);
    opts.series_config = format!(
        "[[series.exception]]\ndate = \"{}\"\ncancel = true\nnote = \"Holidays\"\n\n\
         [[series.exception]]\ndate = \"{}\"\nmove_to = \"{}T09:00\"\nnote = \"Room taken\"",
        dates[1],
        dates[2],
        dates[2].tomorrow().unwrap()
    );
}

async fn get_with(
    server: &TestServer,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, String) {
    // A client of its own: no pooled connection the server may have closed as idle meanwhile.
    let mut request = client_from(Ipv4Addr::LOCALHOST).get(format!("{}{path}", server.base_url()));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}\n{}", server.logs()));
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// A server whose series has a cancelled and a moved meeting to come and [`MEMBERS`].
async fn start_with_changes_and_members() -> App {
    App::start_with(|opts| {
        with_changes(opts);
        opts.roster = Some(full_roster());
    })
    .await
}

/// `GET path`, which must answer `200` with this `Content-Type` and `Cache-Control`.
async fn get_ok(
    server: &TestServer,
    path: &str,
    content_type: &str,
    cache_control: &str,
) -> (HeaderMap, String) {
    let (status, headers, body) = get_with(server, path, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), content_type);
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), cache_control);
    (headers, body)
}

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// No login, name or address of a member (nor a count of them) in `text`.
fn assert_no_member_data(text: &str) {
    for (login, name, email) in MEMBERS {
        for needle in [*login, *name, *email, "ada@example.org", "Ada Lovelace"] {
            assert!(!text.contains(needle), "{needle:?} is public:\n{text}");
        }
    }
    assert!(
        !text.contains(" members"),
        "a member count is public:\n{text}"
    );
}

#[tokio::test]
async fn the_page_shows_the_series_and_its_next_meetings_and_no_member_data() {
    let app = start_with_changes_and_members().await;
    let (headers, html) = get_ok(
        &app.server,
        "/",
        "text/html; charset=utf-8",
        "public, max-age=300",
    )
    .await;
    let policy = header_of(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-")
            && policy.contains("; script-src 'sha256-")
            && !policy.contains("unsafe"),
        "{policy}"
    );
    let host = app.server.addr().to_string();
    let dates = upcoming_dates(3);
    for expected in [
        "<html lang=\"en\">".to_string(),
        "<main>".into(),
        "<h2 id=\"series-ispo-wg\">ISPO Working Group</h2>".into(),
        "Biweekly call of the InnerSource Program Office working group.".into(),
        "Every other Monday, 08:00 America/Los_Angeles, 60 minutes".into(),
        "href=\"https://github.com/Codertocat/Hello-World/issues/new?template=join-meeting.yml\">Join</a>".into(),
        format!("href=\"webcal://{host}{FEED}\">Subscribe</a>"),
        format!("href=\"{FEED}\""),
        format!("<span class=\"tag\">Next</span><time datetime=\"{}T", dates[0]),
        "<span class=\"tag\">Cancelled</span>".into(),
        " <span class=\"note\">Holidays</span>".into(),
        format!(
            "<span class=\"tag\">Moved from Monday {}",
            dates[2].strftime("%-d %B")
        ),
        " <span class=\"note\">Room taken</span>".into(),
        "How to leave: To leave the series, open an issue titled".into(),
    ] {
        assert!(html.contains(&expected), "{expected}\n{html}");
    }
    assert_eq!(html.matches("<li ").count(), 5, "{html}");
    assert_no_member_data(&html);

    // The same page again: 304 on its ETag.
    let etag = header_of(&headers, header::ETAG).to_string();
    let (status, again, body) = get_with(&app.server, "/", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header_of(&again, header::ETAG), etag);
    let (status, _, _) = get_with(&app.server, "/", &[(header::IF_NONE_MATCH, "\"stale\"")]).await;
    assert_eq!(status, StatusCode::OK);
    // Paths that are not pages stay 404.
    assert_eq!(app.server.get("/calendar/").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_feed_is_the_invitations_calendar_published_without_attendees() {
    let app = start_with_changes_and_members().await;
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let invitation = app.wait_for_mail(1).await[0].expect_calendar();

    let (headers, feed) = get_ok(
        &app.server,
        FEED,
        "text/calendar; charset=utf-8",
        "public, max-age=3600",
    )
    .await;
    assert_eq!(ics_value(&feed, "METHOD").as_deref(), Some("PUBLISH"));
    assert_eq!(ics_value(&invitation, "METHOD").as_deref(), Some("REQUEST"));
    assert!(attendees(&feed).is_empty(), "{feed}");
    assert_no_member_data(&feed);
    // The same UID, rule, skips and one-off changes and zone as the invitation.
    let lines = |ics: &str, name: &str| -> Vec<String> {
        ics.replace("\r\n ", "")
            .lines()
            .filter(|l| l.starts_with(name))
            .map(str::to_string)
            .collect()
    };
    for name in [
        "UID:",
        "RRULE:",
        "EXDATE",
        "RECURRENCE-ID",
        "DTSTART;",
        "DTEND;",
        "TZID:",
        "SUMMARY:",
        "ORGANIZER",
    ] {
        let (ours, theirs) = (lines(&feed, name), lines(&invitation, name));
        assert!(!ours.is_empty(), "{name} missing:\n{feed}");
        assert_eq!(ours, theirs, "{name}");
    }
    // Read like the invitation: the same meetings over two years.
    let (from, to) = ("2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z");
    let held = python_occurrences(&invitation, from, to);
    assert!(held.len() > 40, "{held:?}");
    assert_eq!(python_occurrences(&feed, from, to), held);

    // Validators: the same feed again, 304 on either.
    let etag = header_of(&headers, header::ETAG).to_string();
    let modified = header_of(&headers, header::LAST_MODIFIED).to_string();
    assert!(modified.ends_with(" GMT"), "{modified}");
    let (_, again, same) = get_with(&app.server, FEED, &[]).await;
    assert_eq!(
        (header_of(&again, header::ETAG), same.as_str()),
        (etag.as_str(), feed.as_str())
    );
    for conditional in [
        (header::IF_NONE_MATCH, etag.as_str()),
        (header::IF_MODIFIED_SINCE, modified.as_str()),
    ] {
        let (status, _, body) =
            get_with(&app.server, FEED, std::slice::from_ref(&conditional)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{conditional:?}");
        assert!(body.is_empty());
    }
    let (status, _, _) = get_with(
        &app.server,
        FEED,
        &[(header::IF_MODIFIED_SINCE, "Mon, 01 Jan 2024 00:00:00 GMT")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for unknown in [
        "/calendar/other.ics",
        "/calendar/ispo-wg",
        "/calendar/ispo-wg.ics.x",
    ] {
        assert_eq!(
            app.server.get(unknown).await.0,
            StatusCode::NOT_FOUND,
            "{unknown}"
        );
    }
}

#[tokio::test]
async fn page_false_turns_the_page_and_the_feeds_off() {
    let app = App::start_with_config(&[("[server]\n", "[server]\npage = false\n")]).await;
    for path in ["/", FEED] {
        assert_eq!(
            app.server.get(path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(app.server.get("/healthz").await.0, StatusCode::OK);
    app.server
        .wait_for_log("no meetings page", DEFAULT_WAIT)
        .await;
}

#[tokio::test]
async fn the_page_and_the_feeds_share_the_edges_request_slots() {
    // One slot per source: a request that trickles its body holds it.
    let app = App::start_with_config(&[(
        "[server]\n",
        "[server]\nmax_in_flight = 8\nmax_in_flight_per_source = 1\n",
    )])
    .await;
    let visitor = Ipv4Addr::new(127, 0, 0, 3);
    let other = Ipv4Addr::new(127, 0, 0, 4);
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((visitor, 0).into()).unwrap();
    let mut trickle = socket.connect(app.server.addr()).await.unwrap();
    trickle
        .write_all(&raw_post(&sign(TEST_SECRET, b"x"), 1000, b"{"))
        .await
        .unwrap();
    let url = |path: &str| format!("{}{path}", app.server.base_url());
    let status_from = |source: Ipv4Addr, path: &'static str| {
        let url = url(path);
        async move { client_from(source).get(url).send().await.unwrap().status() }
    };
    let mut poll = Poll::new(Duration::from_secs(10));
    let mut shed = false;
    while !shed && poll.next().await {
        shed = status_from(visitor, "/").await == StatusCode::SERVICE_UNAVAILABLE;
    }
    assert!(
        shed,
        "the page was not shed while the source's slot was taken"
    );
    assert_eq!(
        status_from(visitor, FEED).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status_from(other, "/").await, StatusCode::OK);
    assert_eq!(status_from(other, FEED).await, StatusCode::OK);
}
