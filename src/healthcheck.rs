//! `invitebot healthcheck`: asks a running server's `GET /healthz` over plain HTTP/1.1.
//!
//! Made for container health checks: a distroless image has no shell and no `curl`, so the
//! binary probes itself. Blocking `std::net` I/O under one overall deadline; no async runtime.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use url::{Host, Url};

/// How much of the answer is read to find the status line.
const MAX_STATUS_LINE: usize = 1024;

/// Why the probe did not get a `200`.
#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    /// The URL does not parse or is not `http://host[:port]/path`.
    #[error("--url {url:?}: {reason}")]
    BadUrl {
        /// The URL as given (it holds no secret: only a host, port and path).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name did not resolve to any address.
    #[error("cannot resolve {host}")]
    Resolve {
        /// The host part of the URL.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// No connection could be made (server down, wrong port) or the exchange failed.
    #[error("no answer from {addr}")]
    Io {
        /// The address tried.
        addr: SocketAddr,
        /// The I/O error (refused, timed out, reset).
        source: io::Error,
    },
    /// The server answered, but not with `200`.
    #[error("{addr} answered {status:?}")]
    Unhealthy {
        /// The address asked.
        addr: SocketAddr,
        /// The answer's status line.
        status: String,
    },
}

/// The URL probed when none is given: `http://<listen>/healthz`, with an unspecified listen
/// address (`0.0.0.0`, `::`) replaced by the loopback address of the same family.
pub fn default_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// Sends `GET` to `url` (an `http://` URL) and succeeds when the answer's status is `200`,
/// all within `timeout`.
pub fn probe(url: &str, timeout: Duration) -> Result<(), HealthcheckError> {
    let deadline = Instant::now() + timeout;
    let target = Target::parse(url)?;
    let addrs = target.addrs()?;
    let mut last_error = None;
    for addr in addrs {
        match ask(&target, addr, deadline) {
            Ok(status) if is_ok(&status) => return Ok(()),
            Ok(status) => return Err(HealthcheckError::Unhealthy { addr, status }),
            Err(source) => last_error = Some(HealthcheckError::Io { addr, source }),
        }
    }
    Err(last_error.unwrap_or_else(|| HealthcheckError::Resolve {
        host: target.host,
        source: io::Error::new(io::ErrorKind::NotFound, "no address"),
    }))
}

/// What to connect to and what to ask for.
struct Target {
    /// The host for the `Host` header (IPv6 in brackets).
    host: String,
    /// The host to resolve or the literal address.
    connect_host: Host<String>,
    port: u16,
    /// Path and query.
    path: String,
}

impl Target {
    fn parse(text: &str) -> Result<Target, HealthcheckError> {
        let bad = |reason: &str| HealthcheckError::BadUrl {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad(
                "only http:// is supported (the server itself speaks plain HTTP)",
            ));
        }
        let connect_host = url.host().ok_or_else(|| bad("no host"))?.to_owned();
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Target {
            host,
            connect_host,
            port,
            path,
        })
    }

    fn addrs(&self) -> Result<Vec<SocketAddr>, HealthcheckError> {
        match &self.connect_host {
            Host::Ipv4(ip) => Ok(vec![SocketAddr::new((*ip).into(), self.port)]),
            Host::Ipv6(ip) => Ok(vec![SocketAddr::new((*ip).into(), self.port)]),
            Host::Domain(name) => (name.as_str(), self.port)
                .to_socket_addrs()
                .map(Iterator::collect)
                .map_err(|source| HealthcheckError::Resolve {
                    host: name.clone(),
                    source,
                }),
        }
    }
}

/// One request on one connection; returns the status line.
fn ask(target: &Target, addr: SocketAddr, deadline: Instant) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, remaining(deadline)?)?;
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: invitebot-healthcheck\r\nConnection: close\r\n\r\n",
        target.path, target.host, target.port
    )?;
    read_status_line(&mut stream, deadline)
}

fn read_status_line(stream: &mut TcpStream, deadline: Instant) -> io::Result<String> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < MAX_STATUS_LINE {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    match text.split("\r\n").next() {
        Some(line) if !line.is_empty() => Ok(line.to_string()),
        _ => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "closed without an answer",
        )),
    }
}

fn is_ok(status_line: &str) -> bool {
    let mut parts = status_line.split_whitespace();
    matches!(
        (parts.next(), parts.next()),
        (Some(version), Some("200")) if version.starts_with("HTTP/")
    )
}

/// Time left before `deadline`, or a `TimedOut` error when it has passed.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "timed out"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const TIMEOUT: Duration = Duration::from_secs(3);

    /// A one-shot server that answers `answer` and returns the request it read.
    fn serve_once(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 512];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(request).unwrap()
        });
        (format!("http://{addr}/healthz"), handle)
    }

    #[test]
    fn default_url_turns_unspecified_addresses_into_loopback() {
        for (listen, url) in [
            ("0.0.0.0:8080", "http://127.0.0.1:8080/healthz"),
            ("[::]:9000", "http://[::1]:9000/healthz"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080/healthz"),
            ("192.0.2.7:80", "http://192.0.2.7:80/healthz"),
        ] {
            assert_eq!(default_url(listen.parse().unwrap()), url, "{listen}");
        }
    }

    #[test]
    fn a_200_answer_is_healthy_and_the_request_is_a_plain_get() {
        let (url, server) = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n");
        probe(&url, TIMEOUT).unwrap();
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /healthz HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("\r\nHost: 127.0.0.1:"), "{request}");
    }

    #[test]
    fn any_other_status_is_unhealthy_and_named() {
        let (url, server) = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        let error = probe(&url, TIMEOUT).unwrap_err();
        server.join().unwrap();
        assert!(
            matches!(&error, HealthcheckError::Unhealthy { status, .. } if status == "HTTP/1.1 503 Service Unavailable"),
            "{error:?}"
        );
    }

    #[test]
    fn a_closed_port_fails_quickly() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let started = Instant::now();
        let error = probe(&format!("http://{addr}/healthz"), TIMEOUT).unwrap_err();
        assert!(matches!(error, HealthcheckError::Io { .. }), "{error:?}");
        assert!(started.elapsed() < TIMEOUT);
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/healthz", listener.local_addr().unwrap());
        let started = Instant::now();
        let error = probe(&url, Duration::from_millis(300)).unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(error, HealthcheckError::Io { .. }), "{error:?}");
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
        drop(listener);
    }

    #[test]
    fn only_http_urls_are_accepted() {
        for url in [
            "https://127.0.0.1:8080/healthz",
            "127.0.0.1:8080",
            "http://",
        ] {
            let error = probe(url, TIMEOUT).unwrap_err();
            assert!(
                matches!(error, HealthcheckError::BadUrl { .. }),
                "{url}: {error:?}"
            );
        }
    }
}
