use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::core::identity::RepoName;
use crate::core::series::default_uid;
use crate::core::source_position::line_col;
use crate::mail::settings::MailTransport;
use crate::webhook::settings::WebhookSecrets;

use super::testing::{MINIMAL, load, minimal_with, no_env};

fn error(text: &str) -> String {
    load(text).expect_err("expected an error").to_string()
}

#[test]
fn the_shipped_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/invitebot.toml");
    let config = Config::load_with_env(&path, &no_env).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.github.api_url, "https://api.github.com");
    assert!(config.webhook.secrets.is_none());
    assert!(
        matches!(&config.mail.transport, MailTransport::File { dir } if dir.ends_with("config/../data/mail"))
    );
    let series = &config.series[0];
    assert_eq!(series.id, "ispo-wg");
    assert_eq!(
        series.repo.to_string(),
        "InnerSourceCommons/innersource-working-group"
    );
    assert_eq!(series.title, "InnerSource Working Group");
    assert_eq!(series.schedule.tz_name(), "America/Los_Angeles");
    assert_eq!(series.schedule.first().to_string(), "2024-05-06T08:00:00");
    assert_eq!(series.schedule.interval_weeks(), 2);
    assert_eq!(series.schedule.duration_minutes(), 60);
    assert!(series.roster.ends_with("config/roster/ispo-wg.toml"));
    assert_eq!(series.matcher.labels, ["meeting-invite", "join-wg"]);
    let title = series.matcher.title.as_ref().unwrap();
    assert!(title.is_match("Please JOIN"));
    assert!(title.is_match("[join] Ada Lovelace"));
    assert_eq!(series.reply.labels, ["invited"]);
    assert!(series.reply.close);
    assert_eq!(
        series.reply.needs_email_label.as_deref(),
        Some("needs-email")
    );
    assert_eq!(
        series.uid,
        "ispo-wg.innersourcecommons.ispo-working-group@invitebot"
    );
}

#[test]
fn defaults_and_relative_paths() {
    let config = load(MINIMAL).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        config.server.max_body_bytes,
        crate::webhook::settings::ServerConfig::default().max_body_bytes
    );
    assert_eq!(config.data_dir, Path::new("/etc/invitebot/data"));
    assert!(
        matches!(&config.mail.transport, MailTransport::File { dir } if dir == Path::new("/etc/invitebot/data/mail"))
    );
    assert_eq!(
        config.series[0].roster,
        Path::new("/etc/invitebot/roster/ispo-wg.toml")
    );
    assert!(config.series[0].reply.close);
    assert!(config.series[0].reply.labels.is_empty());
}

#[test]
fn environment_overrides_the_file() {
    let env = |name: &str| {
        let value = match name {
            env::LISTEN => "0.0.0.0:9000",
            env::WEBHOOK_SECRET => "s3cret",
            env::GITHUB_API_URL => "http://127.0.0.1:1234",
            env::GITHUB_TOKEN_FALLBACK => "ghp_fallback",
            env::MAIL_TRANSPORT => "smtp",
            env::SMTP_URL => "smtp://user:pw@127.0.0.1:2525?tls=required",
            env::DATA_DIR => "/var/lib/invitebot",
            _ => return None,
        };
        Some(value.to_string())
    };
    let config = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &env).unwrap();
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(secret_bytes(&config), [b"s3cret".to_vec()]);
    assert_eq!(config.github.api_url, "http://127.0.0.1:1234");
    assert_eq!(config.github.token.unwrap().expose_secret(), "ghp_fallback");
    assert!(
        matches!(&config.mail.transport, MailTransport::Smtp { url } if url.expose_secret() == "smtp://user:pw@127.0.0.1:2525?tls=required")
    );
    assert_eq!(config.data_dir, Path::new("/var/lib/invitebot"));
}

#[test]
fn the_primary_token_variable_wins() {
    let env = |name: &str| match name {
        env::GITHUB_TOKEN => Some("primary".to_string()),
        env::GITHUB_TOKEN_FALLBACK => Some("fallback".to_string()),
        _ => None,
    };
    let config = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &env).unwrap();
    assert_eq!(config.github.token.unwrap().expose_secret(), "primary");
}

/// The configured webhook secrets' bytes, in order.
fn secret_bytes(config: &Config) -> Vec<Vec<u8>> {
    let secrets = config.webhook.secrets.as_ref().expect("secrets configured");
    secrets.iter().map(|s| s.expose_bytes().to_vec()).collect()
}

/// Loads [`MINIMAL`] with `[webhook] secret_file = "secret"`, the file holding `secret_file`.
fn with_secret_file(secret_file: &str) -> (tempfile::TempDir, Result<Config, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), secret_file).unwrap();
    let text = minimal_with("[mail]", "[webhook]\nsecret_file = \"secret\"\n\n[mail]");
    let config = Config::from_source(&dir.path().join("invitebot.toml"), &text, &no_env);
    (dir, config)
}

#[test]
fn secret_file_is_read_and_trimmed() {
    let (dir, config) = with_secret_file("from-file\n");
    assert_eq!(secret_bytes(&config.unwrap()), [b"from-file".to_vec()]);
    let text = minimal_with("[mail]", "[webhook]\nsecret_file = \"missing\"\n\n[mail]");
    let err = Config::from_source(&dir.path().join("invitebot.toml"), &text, &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invitebot.toml:2:15: cannot read the webhook secret file"),
        "{err}"
    );
}

#[test]
fn a_secret_file_holds_one_secret_per_line_with_comments() {
    let (_dir, config) = with_secret_file(
        "# new secret, since 2026-11-20\r\n  new-secret  \n\n\t# old one, remove after the rotation\nold # secret\n",
    );
    assert_eq!(
        secret_bytes(&config.unwrap()),
        [b"new-secret".to_vec(), b"old # secret".to_vec()]
    );
}

#[test]
fn a_secret_file_without_secrets_or_with_too_many_is_an_error() {
    let many: String = (0..=WebhookSecrets::MAX)
        .map(|i| format!("s{i}\n"))
        .collect();
    for (text, expected) in [
        ("", "holds no secret"),
        ("# only a comment\n\n   \n", "holds no secret"),
        (many.as_str(), "holds 11 secrets; at most 10 are accepted"),
    ] {
        let (_dir, config) = with_secret_file(text);
        let err = config.unwrap_err().to_string();
        assert!(
            err.contains("invitebot.toml:2:15: the webhook secret file"),
            "{err}"
        );
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn the_secret_variable_is_a_comma_separated_list_and_wins_over_the_file() {
    let text = minimal_with("[mail]", "[webhook]\nsecret_file = \"missing\"\n\n[mail]");
    let load_with = |value: &str| {
        let value = value.to_string();
        let env = move |name: &str| (name == env::WEBHOOK_SECRET).then(|| value.clone());
        Config::from_source(Path::new("/c/invitebot.toml"), &text, &env)
    };
    let config = load_with(" new-secret , ,old-secret,").unwrap();
    assert_eq!(
        secret_bytes(&config),
        [b"new-secret".to_vec(), b"old-secret".to_vec()]
    );
    let err = load_with(" , ").unwrap_err().to_string();
    assert!(
        err.contains("cannot read the webhook secret file"),
        "a list without secrets falls back to the file: {err}"
    );
    let many = ["s"; WebhookSecrets::MAX + 1].join(",");
    let err = load_with(&many).unwrap_err().to_string();
    assert!(
        err.contains("INVITEBOT_WEBHOOK_SECRET holds 11 secrets; at most 10 are accepted"),
        "{err}"
    );
    assert!(
        !err.contains(":2:"),
        "an environment variable has no place in the file: {err}"
    );
}

#[test]
fn edge_limits_have_defaults_and_lower_bounds() {
    let config = load(MINIMAL).unwrap();
    assert_eq!(
        config.server.max_in_flight,
        crate::webhook::settings::ServerConfig::default().max_in_flight
    );
    assert_eq!(config.server.request_timeout, Duration::from_secs(10));
    assert_eq!(
        config.webhook.failed_signature_limit,
        DEFAULT_FAILED_SIGNATURE_LIMIT
    );
    let config = load(&minimal_with(
        "[mail]",
        "[server]\nmax_in_flight = 4\nrequest_timeout_secs = 2\n\n[webhook]\nfailed_signature_limit = 0\n\n[mail]",
    ))
    .unwrap();
    assert_eq!(config.server.max_in_flight, 4);
    assert_eq!(config.server.request_timeout, Duration::from_secs(2));
    assert_eq!(config.webhook.failed_signature_limit, 0);
    for (key, message) in [
        (
            "max_in_flight = 0",
            ":2:17: `max_in_flight` must be at least 1",
        ),
        (
            "request_timeout_secs = 0",
            ":2:24: `request_timeout_secs` must be at least 1",
        ),
        (
            "max_body_bytes = 10",
            ":2:18: `max_body_bytes` must be at least 1024",
        ),
    ] {
        let err = error(&minimal_with(
            "[mail]",
            &format!("[server]\n{key}\n\n[mail]"),
        ));
        assert!(err.contains(message), "{err}");
    }
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let env = |name: &str| match name {
        env::WEBHOOK_SECRET => Some("hush-webhook".to_string()),
        env::GITHUB_TOKEN => Some("hush-token".to_string()),
        env::MAIL_TRANSPORT => Some("smtp".to_string()),
        env::SMTP_URL => Some("smtps://u:hush-password@127.0.0.1:465".to_string()),
        env::GITHUB_OAUTH_CLIENT_ID => Some("Iv1.client".to_string()),
        env::GITHUB_OAUTH_CLIENT_SECRET => Some("hush-oauth".to_string()),
        PUBLIC_URL_ENV => Some("https://invitebot.example.org".to_string()),
        _ => None,
    };
    let config = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &env).unwrap();
    let oauth = config.github.oauth.as_ref().unwrap();
    assert_eq!(oauth.client_id, "Iv1.client");
    assert_eq!(oauth.web_url, "https://github.com");
    let debug = format!("{config:?}");
    for secret in ["hush-webhook", "hush-token", "hush-password", "hush-oauth"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn sign_in_needs_both_halves_and_a_public_url() {
    let only_id =
        |name: &str| (name == env::GITHUB_OAUTH_CLIENT_ID).then(|| "Iv1.client".to_string());
    let error = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &only_id)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`oauth_client_secret` is missing"),
        "{error}"
    );
    let no_public_url = |name: &str| match name {
        env::GITHUB_OAUTH_CLIENT_ID => Some("Iv1.client".to_string()),
        env::GITHUB_OAUTH_CLIENT_SECRET => Some("hush-oauth".to_string()),
        _ => None,
    };
    let error = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &no_public_url)
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs [server] public_url"), "{error}");
    assert!(!error.contains("hush-oauth"), "{error}");
}

#[test]
fn retention_defaults_to_thirty_days() {
    let config = Config::from_source(Path::new("/c/invitebot.toml"), MINIMAL, &no_env).unwrap();
    assert_eq!(config.retention_days, 30);
    let text = minimal_with("[mail]", "[storage]\nretention_days = 7\n\n[mail]");
    let config = Config::from_source(Path::new("/c/invitebot.toml"), &text, &no_env).unwrap();
    assert_eq!(config.retention_days, 7);
}

#[test]
fn errors_name_the_line_and_column() {
    let cases: Vec<(String, &str)> = vec![
        (
            minimal_with("title = ", "titel = \"x\"\ntitle = "),
            ":7:1: unknown field `titel`",
        ),
        (
            minimal_with("\"America/Los_Angeles\"", "\"America/Las_Vegas\""),
            ":8:12:",
        ),
        (
            minimal_with("\"2024-05-06T08:00\"", "\"2024-05-06 8am\""),
            ":9:9: `first` = \"2024-05-06 8am\" is not a local date-time",
        ),
        (
            minimal_with(
                "duration_minutes = 60",
                "duration_minutes = 60\nskip = [\"2026-13-01\"]",
            ),
            ":11:9: skip date \"2026-13-01\" is not a date",
        ),
        (
            minimal_with(
                "email = \"wg@example.org\"",
                "email = \"wg-at-example.org\"",
            ),
            ":11:36: organizer email: not a valid email address",
        ),
        (
            minimal_with(
                "\"InnerSourceCommons/ispo-working-group\"",
                "\"ispo-working-group\"",
            ),
            ":6:8: `repo` must be \"owner/name\"",
        ),
        (
            minimal_with("labels = [\"meeting-invite\"]", "title = \"(unclosed\""),
            ":15:9: `match.title` is not a valid regex",
        ),
        (
            minimal_with("\"WG <wg@example.org>\"", "\"not a mailbox\""),
            ":2:8: `from` must be a mailbox",
        ),
        (
            minimal_with("[mail]", "[server]\nlisten = \"localhost\"\n\n[mail]"),
            ":2:10: `listen` must be an IP address and port",
        ),
        (
            minimal_with("[mail]", "[mail]\ntransport = \"pigeon\""),
            ":2:13: unknown mail transport \"pigeon\"",
        ),
        (
            minimal_with("[mail]", "[mail]\ntransport = \"smtp\""),
            ":2:13: transport \"smtp\" needs `url`",
        ),
        (
            minimal_with("duration_minutes = 60", "duration_minutes = \"sixty\""),
            ":10:20:",
        ),
        (
            minimal_with("duration_minutes = 60", "duration_minutes = 0"),
            ":10:20:",
        ),
        (
            minimal_with(
                "duration_minutes = 60",
                "duration_minutes = 60\ninterval_weeks = 0",
            ),
            ":11:18:",
        ),
        (
            minimal_with("[series.match]\nlabels = [\"meeting-invite\"]\n", ""),
            ":5:6: series `ispo-wg` has no [series.match]",
        ),
        (
            format!("{MINIMAL}\n[[series]]\nid = \"ispo-wg\""),
            ":17:1: missing field `repo`",
        ),
        ("[mail\nfrom = 1".to_string(), ":1:6:"),
        (
            MINIMAL.replace("[[series]]", "[[serie]]"),
            ":4:3: unknown field `serie`",
        ),
    ];
    for (text, expected) in cases {
        let message = error(&text);
        assert!(
            message.starts_with("/etc/invitebot/invitebot.toml:"),
            "{message}"
        );
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}\n---\n{text}"
        );
    }
}

#[test]
fn a_skip_date_off_the_schedule_is_located() {
    let text = minimal_with(
        "duration_minutes = 60",
        "duration_minutes = 60\nskip = [\"2026-12-28\", \"2026-12-29\"]",
    );
    let message = error(&text);
    assert!(message.contains(":11:23:"), "{message}");
    // 2026-12-28 is a Monday of the series: accepted.
    let ok = minimal_with(
        "duration_minutes = 60",
        "duration_minutes = 60\nskip = [\"2026-12-28\", 2027-01-11]",
    );
    assert_eq!(
        load(&ok).unwrap().series[0]
            .schedule
            .cancelled_dates()
            .count(),
        2
    );
}

/// `:line:col:` of the first `needle` in `text` (1-based), as errors name it.
fn place(text: &str, needle: &str) -> String {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"));
    let (line, col) = line_col(text, offset);
    format!(":{line}:{col}:")
}

#[test]
fn exceptions_and_until_load() {
    let text = format!(
        "{}\n[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\nnote = \" Holidays \"\n\n\
         [[series.exception]]\ndate = 2027-01-11\nmove_to = 2027-01-12T09:00:00\n\n\
         [[series.exception]]\ndate = \"2027-01-25\"\nmove_to = \"2027-01-26T07:30\"\nnote = \"Offsite\"\n",
        minimal_with(
            "duration_minutes = 60",
            "duration_minutes = 60\nuntil = \"2027-06-30\"\nskip = [\"2026-12-14\"]"
        )
    );
    let config = load(&text).unwrap();
    let schedule = &config.series[0].schedule;
    assert_eq!(schedule.until(), Some(jiff::civil::date(2027, 6, 30)));
    let seen: Vec<String> = schedule
        .exceptions()
        .iter()
        .map(|e| format!("{} {:?} {:?}", e.date, e.change, e.note))
        .collect();
    assert_eq!(
        seen,
        [
            "2026-12-14 Cancelled None",
            "2026-12-28 Cancelled Some(\"Holidays\")",
            "2027-01-11 Moved { to: 2027-01-12T09:00:00 } None",
            "2027-01-25 Moved { to: 2027-01-26T07:30:00 } Some(\"Offsite\")",
        ]
    );
}

#[test]
fn exception_and_until_errors_are_located() {
    let with = |tables: &str| format!("{MINIMAL}\n{tables}");
    let cases = [
        // (config text, where, what)
        (
            with("[[series.exception]]\ndate = \"2026-12-29\"\ncancel = true\n"),
            "\"2026-12-29\"",
            "exception date 2026-12-29 (Tuesday) is not a meeting date",
        ),
        (
            with("[[series.exception]]\ndate = \"2026-12-28\"\nnote = \"x\"\n"),
            "[[series.exception]]",
            "the exception for 2026-12-28 says neither `cancel = true` nor `move_to",
        ),
        (
            with("[[series.exception]]\ndate = \"2026-12-28\"\ncancel = false\n"),
            "false",
            "`cancel = false` changes nothing",
        ),
        (
            with(
                "[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\nmove_to = \"2026-12-29T09:00\"\n",
            ),
            "true",
            "both cancels and moves",
        ),
        (
            with("[[series.exception]]\ndate = \"2027-03-08\"\nmove_to = \"2027-03-14T02:30\"\n"),
            "\"2027-03-14T02:30\"",
            "02:30 does not exist in America/Los_Angeles that day",
        ),
        (
            with("[[series.exception]]\ndate = \"2027-03-08\"\nmove_to = \"next week\"\n"),
            "\"next week\"",
            "`move_to` = \"next week\" is not a local date-time",
        ),
        (
            with("[[series.exception]]\ndate = \"someday\"\ncancel = true\n"),
            "\"someday\"",
            "exception `date` \"someday\" is not a date",
        ),
        (
            with("[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\nwhy = \"x\"\n"),
            "why",
            "unknown field `why`",
        ),
        (
            with(
                "[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\n\n[[series.exception]]\ndate = \"2026-12-28\"\nmove_to = \"2026-12-29T09:00\"\n",
            ),
            "\"2026-12-28\"\nmove_to",
            "the meeting of 2026-12-28 is changed twice",
        ),
        (
            minimal_with(
                "duration_minutes = 60",
                "duration_minutes = 60\nuntil = \"2024-05-01\"",
            ),
            "\"2024-05-01\"",
            "`until` = 2024-05-01 is before the first meeting",
        ),
        (
            format!(
                "{}\n[[series.exception]]\ndate = \"2027-07-12\"\ncancel = true\n",
                minimal_with(
                    "duration_minutes = 60",
                    "duration_minutes = 60\nuntil = \"2027-06-30\""
                )
            ),
            "\"2027-07-12\"",
            "is after the series ends (`until` = 2027-06-30)",
        ),
    ];
    for (text, at, what) in cases {
        let message = error(&text);
        let expected = format!("/etc/invitebot/invitebot.toml{}", place(&text, at));
        assert!(
            message.starts_with(&expected),
            "{message}\nexpected at {expected}\n---\n{text}"
        );
        assert!(
            message.contains(what),
            "{message}\nlacks {what:?}\n---\n{text}"
        );
    }
}

#[test]
fn duplicate_series_ids_and_empty_configs_are_errors() {
    let twice = format!(
        "{MINIMAL}\n{}",
        &MINIMAL[MINIMAL.find("[[series]]").unwrap()..]
    );
    assert!(
        error(&twice).contains("series id `ispo-wg` is used twice"),
        "{}",
        error(&twice)
    );
    assert!(
        error("[mail]\nfrom = \"WG <wg@example.org>\"\n").contains("no [[series]] is configured")
    );
}

#[test]
fn smtp_url_errors_do_not_echo_the_password() {
    let text = minimal_with(
        "[mail]",
        "[mail]\ntransport = \"smtp\"\nurl = \"ftp://user:hunter2@host\"",
    );
    let message = error(&text);
    assert!(
        message.contains(":3:7: the SMTP url is not valid"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn uid_is_stable_and_overridable() {
    let repo = RepoName::parse("InnerSourceCommons/ispo-working-group").unwrap();
    assert_eq!(
        default_uid("ispo-wg", &repo),
        "ispo-wg.innersourcecommons.ispo-working-group@invitebot"
    );
    let text = minimal_with(
        "roster = ",
        "uid = \"old-series-uid@example.org\"\nroster = ",
    );
    assert_eq!(
        load(&text).unwrap().series[0].uid,
        "old-series-uid@example.org"
    );
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncd", 0), (1, 1));
    assert_eq!(line_col("ab\ncd", 3), (2, 1));
    assert_eq!(line_col("ab\ncd", 4), (2, 2));
    assert_eq!(line_col("é\nx", 3), (2, 1));
    assert_eq!(line_col("éx", 2), (1, 2));
    assert_eq!(line_col("ab", 99), (1, 3));
}

#[test]
fn repo_names() {
    assert!(RepoName::parse("a/b").is_some());
    assert!(RepoName::parse("a").is_none());
    assert!(RepoName::parse("a/b/c").is_none());
    assert!(RepoName::parse("/b").is_none());
    assert!(RepoName::parse("a b/c").is_none());
    assert!(
        RepoName::parse("Codertocat/Hello-World")
            .unwrap()
            .matches("codertocat/hello-world")
    );
}

#[test]
fn the_minimal_config_is_the_sample_series_core_tests_use() {
    use crate::core::series::testing::sample_series;
    use crate::core::series_event::SeriesEvent;
    let loaded = load(MINIMAL).unwrap().series.remove(0);
    let sample = sample_series();
    assert_eq!(
        SeriesEvent::of(&loaded).snapshot(),
        SeriesEvent::of(&sample).snapshot()
    );
    assert_eq!(
        (&loaded.id, &loaded.repo, &loaded.uid, &loaded.roster),
        (&sample.id, &sample.repo, &sample.uid, &sample.roster)
    );
    assert_eq!(loaded.guard, sample.guard);
    assert_eq!(loaded.matcher.labels, sample.matcher.labels);
    assert_eq!(loaded.matcher.leave_labels, sample.matcher.leave_labels);
    assert_eq!(
        loaded.matcher.leave_title.map(|r| r.to_string()),
        sample.matcher.leave_title.map(|r| r.to_string())
    );
    assert!(loaded.matcher.title.is_none() && sample.matcher.title.is_none());
    assert_eq!(
        (loaded.reply.close, loaded.reply.labels.len(), loaded.team),
        (sample.reply.close, sample.reply.labels.len(), sample.team)
    );
}

#[test]
fn confirm_email_reads_words_and_booleans_and_the_environment_wins() {
    use crate::core::series::ConfirmEmail;
    let roster = r#"roster = "roster/ispo-wg.toml""#;
    let confirm = |value: &str| {
        let text = minimal_with(roster, &format!("{roster}\nconfirm_email = {value}"));
        load(&text).map(|c| c.series[0].guard.confirm_email)
    };
    assert_eq!(
        load(MINIMAL).unwrap().series[0].guard.confirm_email,
        ConfirmEmail::Unproven
    );
    for (value, expected) in [
        ("\"unproven\"", ConfirmEmail::Unproven),
        ("\"always\"", ConfirmEmail::Always),
        ("\"never\"", ConfirmEmail::Never),
        ("true", ConfirmEmail::Always),
        ("false", ConfirmEmail::Never),
    ] {
        assert_eq!(confirm(value).unwrap(), expected, "{value}");
    }
    let problem = confirm("\"sometimes\"").unwrap_err().to_string();
    assert!(problem.contains("`confirm_email` must be"), "{problem}");
    // Without a public URL a typed address waits for a maintainer: not a config error.
    assert!(
        load(&minimal_with(
            roster,
            &format!("{roster}\nconfirm_email = true")
        ))
        .is_ok()
    );

    let text = minimal_with(roster, &format!("{roster}\nconfirm_email = \"always\""));
    let never = |name: &str| (name == env::CONFIRM_EMAIL).then(|| "never".to_string());
    let config = Config::from_source(Path::new("/c/invitebot.toml"), &text, &never).unwrap();
    assert_eq!(config.series[0].guard.confirm_email, ConfirmEmail::Never);
    let wrong = |name: &str| (name == env::CONFIRM_EMAIL).then(|| "maybe".to_string());
    let problem = Config::from_source(Path::new("/c/invitebot.toml"), &text, &wrong)
        .unwrap_err()
        .to_string();
    assert!(problem.contains("INVITEBOT_CONFIRM_EMAIL"), "{problem}");
}
