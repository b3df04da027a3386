//! Serving a listener: connections past the caps are closed at once, a request head must arrive
//! whole within `header_timeout` and fit [`ServerConfig::MAX_HEAD_BYTES`], and a connection
//! without a byte in either direction for `idle_timeout` is closed. (`axum::serve` builds hyper
//! without a timer, which silently turns hyper's header-read timeout off.)
//!
//! On shutdown every connection finishes the request in progress and closes; the call returns
//! when all are closed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::rejections::{Reason, Rejections};
use super::settings::ServerConfig;
use super::sources::Quota;

/// How a listener treats its connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at once.
    pub max_connections: usize,
    /// Open connections per source (`0`: no per-source cap).
    pub max_per_source: usize,
    /// The time for a request's whole head.
    pub header_timeout: Duration,
    /// The longest a connection may sit without a byte.
    pub idle_timeout: Duration,
}

impl ConnectionLimits {
    /// The public listener's limits, from the config (the connection cap kept within the
    /// process's open-file limit).
    pub fn public(server: &ServerConfig) -> Self {
        Self {
            max_connections: within_file_limit(server.max_connections),
            max_per_source: server.max_connections_per_source,
            header_timeout: server.header_timeout,
            idle_timeout: server.idle_timeout,
        }
    }

    /// The operations listener's: a few connections for a scraper and a health check.
    pub fn admin(server: &ServerConfig) -> Self {
        Self {
            max_connections: 16,
            max_per_source: 0,
            header_timeout: server.header_timeout,
            idle_timeout: server.idle_timeout,
        }
    }
}

/// Open files kept free for the store, the config and rosters, mail and GitHub connections.
const RESERVED_FILES: u64 = 64;

/// `wanted`, lowered to what the open-file limit leaves for connections (with a warning).
fn within_file_limit(wanted: usize) -> usize {
    let Some(limit) = open_file_limit() else {
        return wanted;
    };
    let room = limit.saturating_sub(RESERVED_FILES).max(1) as usize;
    if room < wanted {
        tracing::warn!(
            max_connections = wanted,
            open_file_limit = limit,
            using = room,
            "max_connections is more than the open-file limit allows; raise `ulimit -n` to use it"
        );
    }
    wanted.min(room)
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Serves `router` on `listener` until `shutdown` completes, then lets every connection finish
/// its request and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    rejections: Arc<Rejections>,
    shutdown: impl Future<Output = ()>,
) {
    let quota = Quota::new(
        limits.max_connections,
        (limits.max_per_source > 0).then_some(limits.max_per_source),
    );
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = quota.take(Some(peer.ip()), 1) else {
            rejections.count(Reason::Connection, Some(peer.ip()));
            drop(stream);
            continue;
        };
        let connection = Connection {
            router: router.clone(),
            limits: limits.clone(),
            rejections: rejections.clone(),
            peer,
        };
        let stopping = stopping.clone();
        tokio::spawn(async move {
            connection.run(stream, stopping).await;
            drop(permit);
        });
    }
    drop(stopping);
    let _ = stop.send(true);
    stop.closed().await;
}

/// Errors of `accept`: a connection that went away is nothing; anything else (out of file
/// descriptors) is logged and waited out briefly instead of spinning.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; trying again in a moment");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One accepted connection and what it needs.
struct Connection {
    router: Router,
    limits: ConnectionLimits,
    rejections: Arc<Rejections>,
    peer: SocketAddr,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut stopping: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let peer = self.peer;
        let service = self
            .router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(ServerConfig::MAX_HEAD_BYTES)
            .max_header_size(ServerConfig::MAX_HEAD_BYTES);
        let mut conn = pin!(builder.serve_connection(io, TowerToHyperService::new(service)));
        let idle = self.limits.idle_timeout;
        let mut idle_watch = IdleWatch::default();
        let mut closing_since: Option<Instant> = None;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(error) = result {
                        self.failed(&error);
                    }
                    return;
                }
                _ = stopping.changed(), if closing_since.is_none() => {
                    conn.as_mut().graceful_shutdown();
                    closing_since = Some(Instant::now());
                }
                () = tokio::time::sleep(idle / IdleWatch::LOOKS) => {
                    if let Some(since) = closing_since {
                        // A client that reads no answer can't hold the connection past this.
                        if since.elapsed() >= idle {
                            return;
                        }
                    } else if idle_watch.look(activity.moves()) {
                        conn.as_mut().graceful_shutdown();
                        closing_since = Some(Instant::now());
                    }
                }
            }
        }
    }

    /// Counts heads that came too slowly or too large; other connection errors (the client went
    /// away) are nothing to report.
    fn failed(&self, error: &hyper::Error) {
        if error.is_timeout() || error.is_parse_too_large() || error.is_parse() {
            self.rejections.count(Reason::Head, Some(self.peer.ip()));
        }
    }
}

/// How many times a connection moved bytes: a count, not a time (reading the clock at every
/// read and write cost more than the rest of a connection's bookkeeping).
#[derive(Default)]
struct Activity(AtomicU64);

impl Activity {
    fn touch(&self) {
        // Only the connection's own task writes it: a load and a store, no locked instruction.
        let moves = self.0.load(Ordering::Relaxed);
        self.0.store(moves.wrapping_add(1), Ordering::Relaxed);
    }

    fn moves(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Looks at a connection's [`Activity`] every `idle_timeout /` [`IdleWatch::LOOKS`]: a
/// connection is idle once that many looks in a row saw no move. Bytes moved just after a
/// look are seen by the next one, so an idle connection moved nothing for at least the idle
/// timeout, and is closed at most a look's interval later.
#[derive(Debug, Default)]
struct IdleWatch {
    last_moves: u64,
    quiet_looks: u32,
}

impl IdleWatch {
    /// Looks per idle timeout.
    const LOOKS: u32 = 4;

    /// Whether the connection is idle, given its activity's count now.
    fn look(&mut self, moves: u64) -> bool {
        if moves == self.last_moves {
            self.quiet_looks += 1;
        } else {
            self.last_moves = moves;
            self.quiet_looks = 0;
        }
        self.quiet_looks >= Self::LOOKS
    }
}

/// A stream that notes every byte read or written in its [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl Tracked {
    fn note<T>(&self, poll: Poll<io::Result<T>>, moved: bool) -> Poll<io::Result<T>> {
        if moved && matches!(poll, Poll::Ready(Ok(_))) {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let moved = buf.filled().len() > before;
        self.note(poll, moved)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        let moved = matches!(poll, Poll::Ready(Ok(n)) if n > 0);
        self.note(poll, moved)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        let moved = matches!(poll, Poll::Ready(Ok(n)) if n > 0);
        self.note(poll, moved)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_idle_after_a_whole_timeout_of_quiet_looks() {
        let activity = Activity::default();
        let mut watch = IdleWatch::default();
        activity.touch();
        // The look just after the move sees it; the idle timeout counts from there.
        assert!(!watch.look(activity.moves()));
        for _ in 1..IdleWatch::LOOKS {
            assert!(!watch.look(activity.moves()));
        }
        assert!(watch.look(activity.moves()));
    }

    #[test]
    fn a_move_between_looks_starts_the_count_again() {
        let activity = Activity::default();
        let mut watch = IdleWatch::default();
        for _ in 1..IdleWatch::LOOKS {
            assert!(!watch.look(activity.moves()));
        }
        activity.touch();
        for _ in 0..IdleWatch::LOOKS {
            assert!(!watch.look(activity.moves()));
        }
        assert!(watch.look(activity.moves()));
    }
}
