//! Everything GitHub: the webhook payload types ([`event`]) and the REST API wrapper ([`client`]).

pub mod client;
pub mod event;
