//! Checks `[server]`: the two listeners and the edge's limits.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use super::checker::Checker;
use super::raw::RawServer;
use super::{ConfigError, env};
use crate::webhook::settings::ServerConfig;

impl Checker<'_> {
    pub(super) fn server(&self, raw: RawServer) -> Result<ServerConfig, ConfigError> {
        let defaults = ServerConfig::default();
        let listen = self.address(env::LISTEN, "listen", raw.listen, defaults.listen)?;
        let admin_listen = self.address(
            env::ADMIN_LISTEN,
            "admin_listen",
            raw.admin_listen,
            defaults.admin_listen,
        )?;
        if admin_listen == listen && listen.port() != 0 {
            return Err(ConfigError::file(
                self.path,
                format!(
                    "`admin_listen` and `listen` are both {listen}: give the operations endpoints a port of their own"
                ),
            ));
        }
        let seconds = |value, min, key, default: Duration| -> Result<Duration, ConfigError> {
            let secs = self.at_least(value, min, key)?;
            Ok(secs.map_or(default, Duration::from_secs))
        };
        let max_in_flight = self
            .at_least(raw.max_in_flight, 1, "max_in_flight")?
            .unwrap_or(defaults.max_in_flight);
        let max_connections = self
            .at_least(raw.max_connections, 1, "max_connections")?
            .unwrap_or(defaults.max_connections);
        let server = ServerConfig {
            listen,
            admin_listen,
            max_body_bytes: self
                .at_least(raw.max_body_bytes, 1024, "max_body_bytes")?
                .unwrap_or(defaults.max_body_bytes),
            max_in_flight,
            // By default an eighth of the slots: a flood from one address leaves the rest.
            max_in_flight_per_source: raw
                .max_in_flight_per_source
                .map_or(max_in_flight.div_ceil(8), Spanned::into_inner),
            max_buffered_bytes: self
                .at_least(raw.max_buffered_bytes, 1024, "max_buffered_bytes")?
                .unwrap_or(defaults.max_buffered_bytes),
            max_connections,
            max_connections_per_source: raw.max_connections_per_source.map_or(
                defaults.max_connections_per_source.min(max_connections),
                Spanned::into_inner,
            ),
            request_timeout: seconds(
                raw.request_timeout_secs,
                1,
                "request_timeout_secs",
                defaults.request_timeout,
            )?,
            header_timeout: seconds(
                raw.header_timeout_secs,
                1,
                "header_timeout_secs",
                defaults.header_timeout,
            )?,
            idle_timeout: seconds(
                raw.idle_timeout_secs,
                1,
                "idle_timeout_secs",
                defaults.idle_timeout,
            )?,
            log_summary_interval: seconds(
                raw.log_summary_secs,
                1,
                "log_summary_secs",
                defaults.log_summary_interval,
            )?,
        };
        self.consistent(&server)?;
        Ok(server)
    }

    /// A listen address from the environment variable `var`, else the file's `key`, else
    /// `default`.
    fn address(
        &self,
        var: &str,
        key: &str,
        raw: Option<Spanned<String>>,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        if let Some(text) = self.env.var(var) {
            return text.trim().parse().map_err(|_| {
                ConfigError::file(
                    self.path,
                    format!("{var} = {text:?} is not an address like 127.0.0.1:8080"),
                )
            });
        }
        let Some(text) = raw else { return Ok(default) };
        text.get_ref().trim().parse().map_err(|_| {
            self.err(
                text.span(),
                format!("`{key}` must be an IP address and port, like \"127.0.0.1:8080\" or \"0.0.0.0:8080\""),
            )
        })
    }

    /// Limits that contradict each other.
    fn consistent(&self, server: &ServerConfig) -> Result<(), ConfigError> {
        let problem = if server.max_buffered_bytes < server.max_body_bytes {
            Some(format!(
                "`max_buffered_bytes` ({}) is smaller than `max_body_bytes` ({}): no body could be read",
                server.max_buffered_bytes, server.max_body_bytes
            ))
        } else if server.max_in_flight_per_source > server.max_in_flight {
            Some("`max_in_flight_per_source` is larger than `max_in_flight`".to_string())
        } else if server.max_connections_per_source > server.max_connections {
            Some("`max_connections_per_source` is larger than `max_connections`".to_string())
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ConfigError::file(self.path, format!("[server] {problem}"))),
            None => Ok(()),
        }
    }

    /// The value of the optional number `key`, which must be at least `min`.
    pub(super) fn at_least<T: PartialOrd + fmt::Display>(
        &self,
        value: Option<Spanned<T>>,
        min: T,
        key: &str,
    ) -> Result<Option<T>, ConfigError> {
        match value {
            Some(n) if *n.get_ref() < min => {
                Err(self.err(n.span(), format!("`{key}` must be at least {min}")))
            }
            other => Ok(other.map(Spanned::into_inner)),
        }
    }
}
