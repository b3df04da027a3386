//! Everything that talks to GitHub: the REST API wrapper ([`client`]), GitHub App
//! authentication ([`auth`]), signing a visitor in with GitHub ([`oauth`]) and their settings ([`settings`]). The webhook payload types are
//! pure and live in [`crate::core::webhook_event`].

pub mod auth;
pub mod client;
pub mod error;
mod jwt_ring;
pub mod oauth;
pub mod repos;
pub mod settings;
