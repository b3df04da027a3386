//! The integration tests of invitebot, as one test binary (`cargo test --test it`).
//!
//! Most areas drive the real `invitebot` binary on a loopback port, against an SMTP server in
//! this process and a wiremock GitHub; the harness is [`common`] (`tests/it/common/`), the
//! vendored GitHub webhook payloads are in `tests/fixtures/`. One module per area:
//!
//! - [`e2e`]: the whole service, from a signed delivery to the invitation, the roster entry and
//!   the reply;
//! - [`lifecycle`]: roster and config edits under a running server, leaving, the GitHub team;
//! - [`durability`]: SIGKILL, SIGTERM, SMTP down, GitHub errors, catch-up, the fault loop;
//! - [`consent`]: double opt-in, leave links, daily limits and approvals, the private form;
//! - [`privacy`]: hostile names and titles, redaction, the leak scan;
//! - [`webhook_edge`]: the HTTP edge under abuse (signatures, rotation, limits, slow requests);
//! - [`hostile_traffic`]: slow heads, trickled and huge bodies, floods, connection caps, the
//!   operations listener, an idle server;
//! - [`meetings`]: the public meetings page and calendar feeds (content, caching, `304`, no
//!   member data, the feed read like the invitation, `[server] page = false`, the edge limits);
//! - [`meetings_browser`]: the page in headless Chromium at desktop and phone widths (console
//!   errors, CSP violations, links, the visitor's own time zone), with the README's screenshots;
//! - [`github_app`]: GitHub App authentication;
//! - [`cli`]: the commands (`check`, `ics`, `roster`, `healthcheck`, ...);
//! - [`commands`]: maintainers' commands in issue comments (skip, move, remove, resend, status,
//!   help), once per comment, refused to others;
//! - [`zones`]: `invitebot check` in several time zones;
//! - [`telemetry`]: text and JSON logs;
//! - [`issue_form`]: the shipped issue forms (and the InnerSource Working Group's own) parse as
//!   join and leave requests;
//! - [`rename`]: a repository renamed on GitHub, matched by its id;
//! - [`properties`]: proptest properties of the parsers and writers of untrusted text;
//! - [`calendar_python`]: the recurrence as Python's `icalendar` reads it;
//! - [`calendar_interop`]: every occurrence as ical.js, libical, vobject and
//!   recurring-ical-events read it, in 12 zones, compared with the tz database;
//! - [`harness_selftest`]: the harness itself;
//! - [`architecture`]: the layering of `docs/architecture.md`, read from `src/`.
//!
//! # One process, tests on threads
//!
//! All tests run as threads of this one process (by default as many as there are cores), so
//! nothing may depend on having a process of its own. Nothing does: each test starts its own
//! server process in its own temporary folder, on a port the OS chose, with its own SMTP sink
//! and GitHub mock (wiremock's pool hands a mock server to one test at a time); the tests only
//! read the environment (`clean_command` passes a cleaned copy to the children) and never set
//! variables, change the current directory, install a global logger or lock files; signals go
//! only to a test's own, unreaped child. The process-wide statics are compiled regexes. No
//! area needs to run alone.

mod common;

mod architecture;
mod calendar_interop;
mod calendar_python;
mod cli;
mod commands;
mod consent;
mod consent_proof;
mod data_at_rest;
mod durability;
mod e2e;
mod github_app;
mod harness_selftest;
mod hostile_traffic;
mod issue_form;
mod lifecycle;
mod meetings;
mod meetings_browser;
mod privacy;
mod private_form;
mod properties;
mod rename;
mod telemetry;
mod webhook_edge;
mod zones;
