//! A toggleable loopback TCP proxy, to make a server "go down" and "come back"
//! without stopping it (the [`super::SmtpSink`] cannot be stopped).
//!
//! ```ignore
//! let smtp = SmtpSink::start();
//! let proxy = TcpProxy::start(smtp.addr());
//! let mut opts = ServerOptions::new(&github, &smtp);
//! opts.smtp_url = proxy.url_smtp();
//! proxy.set_down(true); // open connections are cut; new ones are accepted and closed at once
//! proxy.set_down(false); // forwards again
//! ```
//!
//! Threads, not tokio: it works the same under any test runtime and keeps
//! forwarding while a test's current-thread runtime is busy. Each accepted
//! connection gets one thread that connects to the target and two that pump
//! bytes (one per direction; an end of stream is passed on as a half-close).
//! Dropping the proxy cuts every connection and closes its port.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the proxy waits for the target to accept a forwarded connection.
pub const PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections accepted less than this apart count as one attempt in
/// [`TcpProxy::attempts`] (a client that reconnects at once within one try).
pub const ATTEMPT_GAP: Duration = Duration::from_millis(250);

/// A forwarded connection: both sockets, so [`TcpProxy::set_down`] can cut it.
struct Link {
    client: TcpStream,
    upstream: TcpStream,
}

impl Link {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

#[derive(Default)]
struct Counters {
    /// Every accepted connection (up or down).
    accepted: AtomicUsize,
    /// Accepted while down and closed at once.
    refused: AtomicUsize,
    /// Forwarded to the target.
    forwarded: AtomicUsize,
    /// Open forwarded connections cut by `set_down(true)` (or by dropping the proxy).
    cut: AtomicUsize,
    /// The target refused or did not answer.
    upstream_failed: AtomicUsize,
}

struct Inner {
    target: SocketAddr,
    addr: SocketAddr,
    /// Written only with `links` locked, so a connection is either registered
    /// before `set_down(true)` (and cut by it) or sees the flag.
    down: AtomicBool,
    stopping: AtomicBool,
    counters: Counters,
    next_id: AtomicU64,
    links: Mutex<HashMap<u64, Link>>,
    accept_times: Mutex<Vec<Instant>>,
}

impl Inner {
    fn set_down(&self, down: bool) {
        let mut links = self.links.lock().unwrap();
        self.down.store(down, Ordering::SeqCst);
        if down {
            for (_, link) in links.drain() {
                link.cut();
                self.counters.cut.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    fn handle(self: &Arc<Self>, client: TcpStream) {
        let _ = client.set_nodelay(true);
        if self.down.load(Ordering::SeqCst) {
            self.refuse(client);
            return;
        }
        let upstream = match TcpStream::connect_timeout(&self.target, PROXY_CONNECT_TIMEOUT) {
            Ok(upstream) => upstream,
            Err(_) => {
                self.counters.upstream_failed.fetch_add(1, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
        };
        let _ = upstream.set_nodelay(true);
        let clones = (
            client.try_clone(),
            upstream.try_clone(),
            upstream.try_clone(),
            client.try_clone(),
        );
        let (Ok(c_read), Ok(u_write), Ok(u_read), Ok(c_write)) = clones else {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
            return;
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        {
            let mut links = self.links.lock().unwrap();
            if self.down.load(Ordering::SeqCst) || self.stopping.load(Ordering::SeqCst) {
                drop(links);
                let _ = upstream.shutdown(Shutdown::Both);
                self.refuse(client);
                return;
            }
            links.insert(id, Link { client, upstream });
        }
        self.counters.forwarded.fetch_add(1, Ordering::SeqCst);
        let pumps_left = Arc::new(AtomicUsize::new(2));
        for (from, to) in [(c_read, u_write), (u_read, c_write)] {
            let inner = self.clone();
            let pumps_left = pumps_left.clone();
            std::thread::spawn(move || {
                pump(from, to);
                if pumps_left.fetch_sub(1, Ordering::SeqCst) == 1
                    && let Some(link) = inner.links.lock().unwrap().remove(&id)
                {
                    link.cut();
                }
            });
        }
    }

    fn refuse(&self, client: TcpStream) {
        self.counters.refused.fetch_add(1, Ordering::SeqCst);
        let _ = client.shutdown(Shutdown::Both);
    }
}

/// Copies `from` to `to` until end of stream (then half-closes `to`) or an
/// error (then closes both).
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// A loopback TCP proxy in front of `target`; see the module docs.
pub struct TcpProxy {
    inner: Arc<Inner>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `target`
    /// (up, until [`Self::set_down`]).
    pub fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy on 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address of the proxy");
        let inner = Arc::new(Inner {
            target,
            addr,
            down: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            counters: Counters::default(),
            next_id: AtomicU64::new(0),
            links: Mutex::new(HashMap::new()),
            accept_times: Mutex::new(Vec::new()),
        });
        let accept_inner = inner.clone();
        let accept_thread = std::thread::Builder::new()
            .name(format!("tcp-proxy-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_inner.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = stream else { continue };
                    accept_inner
                        .accept_times
                        .lock()
                        .unwrap()
                        .push(Instant::now());
                    accept_inner
                        .counters
                        .accepted
                        .fetch_add(1, Ordering::SeqCst);
                    let inner = accept_inner.clone();
                    std::thread::spawn(move || inner.handle(client));
                }
            })
            .expect("spawn the proxy's accept thread");
        TcpProxy {
            inner,
            accept_thread: Some(accept_thread),
        }
    }

    /// The proxy's own address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `smtp://127.0.0.1:PORT`, for `ServerOptions::smtp_url`.
    pub fn url_smtp(&self) -> String {
        format!("smtp://{}", self.inner.addr)
    }

    /// `true`: cuts every open connection (both sides closed) and from now on
    /// accepts new connections only to close them at once, like a server that
    /// is down or restarting. `false`: forwards new connections again.
    pub fn set_down(&self, down: bool) {
        self.inner.set_down(down);
    }

    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::SeqCst)
    }

    /// Connections accepted so far, up or down.
    pub fn connections(&self) -> usize {
        self.inner.counters.accepted.load(Ordering::SeqCst)
    }

    /// Connections accepted while down (closed at once).
    pub fn refused(&self) -> usize {
        self.inner.counters.refused.load(Ordering::SeqCst)
    }

    /// Connections forwarded to the target.
    pub fn forwarded(&self) -> usize {
        self.inner.counters.forwarded.load(Ordering::SeqCst)
    }

    /// Open forwarded connections that `set_down(true)` cut. A cut during an
    /// SMTP transaction can make a client send the same message again (the
    /// server accepted it, the client never saw the `250`).
    pub fn cut(&self) -> usize {
        self.inner.counters.cut.load(Ordering::SeqCst)
    }

    /// When each connection was accepted, in order.
    pub fn connection_times(&self) -> Vec<Instant> {
        self.inner.accept_times.lock().unwrap().clone()
    }

    /// [`Self::connection_times`] grouped into attempts: a connection
    /// accepted less than [`ATTEMPT_GAP`] after the previous one belongs to
    /// the same attempt. Returns the first connection time of each attempt.
    pub fn attempts(&self) -> Vec<Instant> {
        let mut attempts: Vec<Instant> = Vec::new();
        let mut last: Option<Instant> = None;
        for at in self.connection_times() {
            if last.is_none_or(|prev| at.duration_since(prev) >= ATTEMPT_GAP) {
                attempts.push(at);
            }
            last = Some(at);
        }
        attempts
    }

    /// Waits until at least `count` connections were accepted; `Err`
    /// says how many were when `timeout` passes first.
    pub async fn wait_for_connections(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), String> {
        super::poll_until(timeout, || (self.connections() >= count).then_some(()))
            .await
            .ok_or_else(|| {
                format!(
                    "proxy {}: expected at least {count} connection(s) within {timeout:?}, got {}",
                    self.addr(),
                    self.connections()
                )
            })
    }

    /// Starts a thread that puts the proxy down and up at random: each down
    /// phase lasts a random time in `down_ms`, each up phase one in `up_ms`
    /// (milliseconds, both ends included). Deterministic for a `seed`. The
    /// proxy is left up when the returned [`Flapper`] is stopped or dropped.
    pub fn flap(&self, seed: u64, down_ms: (u64, u64), up_ms: (u64, u64)) -> Flapper {
        let inner = self.inner.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let downs = Arc::new(AtomicUsize::new(0));
        let (thread_stop, thread_downs) = (stop.clone(), downs.clone());
        let thread = std::thread::spawn(move || {
            let mut rng = XorShift::new(seed);
            let mut down = false;
            while !thread_stop.load(Ordering::SeqCst) {
                let (lo, hi) = if down { down_ms } else { up_ms };
                let until = Instant::now() + Duration::from_millis(rng.between(lo, hi));
                while Instant::now() < until && !thread_stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                down = !down;
                if down {
                    thread_downs.fetch_add(1, Ordering::SeqCst);
                }
                inner.set_down(down);
            }
            inner.set_down(false);
        });
        Flapper {
            stop,
            downs,
            thread: Some(thread),
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.set_down(true);
        // Wake the accept loop so it sees `stopping` and closes the port.
        let _ = TcpStream::connect_timeout(&self.inner.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread started by [`TcpProxy::flap`].
pub struct Flapper {
    stop: Arc<AtomicBool>,
    downs: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Flapper {
    /// Stops flapping and leaves the proxy up; returns how many down phases there were.
    pub fn stop(mut self) -> usize {
        self.halt();
        self.downs.load(Ordering::SeqCst)
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Flapper {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A small deterministic PRNG (xorshift64*), enough for test schedules.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        // Never zero (xorshift's fixed point); spread small seeds.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi` (`lo` if `hi < lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }
}
