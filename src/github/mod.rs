//! Everything GitHub: the webhook payload types ([`event`]), the REST API wrapper ([`client`])
//! and GitHub App authentication ([`auth`]).

pub mod auth;
pub mod client;
pub mod event;
