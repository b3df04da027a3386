//! invitebot: turns "request meeting invite" GitHub issues into calendar invitations, roster
//! entries and replies.
//!
//! Data flows one way (see `docs/architecture.md`): HTTP request → [`webhook`] (verified
//! delivery) → [`github::event`] (typed event) → [`request`] (invite request) → [`roster`] →
//! [`calendar`] (iCalendar text) → [`mail`] and [`github::client`] (reply), ordered by
//! [`pipeline`].

pub mod calendar;
pub mod config;
pub mod email;
pub mod erasure;
pub mod event;
pub mod github;
pub mod healthcheck;
pub mod links;
pub mod mail;
pub mod pipeline;
pub mod reconcile;
pub mod request;
pub mod retry;
pub mod roster;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod texts;
pub mod watch;
pub mod webhook;
