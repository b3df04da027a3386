//! invitebot: turns "request meeting invite" GitHub issues into calendar invitations, roster
//! entries and replies.
//!
//! Data flows one way (see `docs/architecture.md`): HTTP request → [`webhook`] (verified
//! delivery) → [`core::webhook_event`] (typed event) → [`core::request`] (invite request) →
//! [`roster`] → [`core::calendar`] (iCalendar text) → [`mail`] and [`github::client`] (reply),
//! ordered by [`pipeline`]. [`core`] holds the pure vocabulary and rules; everything else is an
//! adapter (files, SQLite, SMTP, GitHub, HTTP) or the wiring.

pub mod config;
pub mod core;
pub mod erasure;
pub mod github;
pub mod healthcheck;
pub mod links;
pub mod mail;
pub mod meetings;
pub mod pipeline;
pub mod reconcile;
pub mod retention;
pub mod roster;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod watch;
pub mod webhook;
