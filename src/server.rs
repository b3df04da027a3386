//! `invitebot serve`: wires the config, the state store, the pipeline's worker, the file watcher
//! and the HTTP edge together, and stops cleanly on SIGTERM or Ctrl-C (finishing the requests
//! already accepted). SIGHUP reloads the config and reconciles.

use std::future::Future;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};

use crate::config::{Config, ConfigError, env};
use crate::github::client::{Client, GitHubApiError};
use crate::mail::{MailError, Mailer};
use crate::pipeline::{Job, Pipeline};
use crate::reconcile::Reconciler;
use crate::roster::{Roster, RosterError};
use crate::store::{Store, StoreError};
use crate::watch::FileWatcher;
use crate::webhook::{self, AppState};

/// How many accepted join requests may wait for the worker before new ones get a 503.
const QUEUE_CAPACITY: usize = 1024;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No webhook secret is configured.
    #[error("no webhook secret: set {} or `[webhook] secret_file` in {}", env::WEBHOOK_SECRET, .0.display())]
    NoSecret(std::path::PathBuf),
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A roster is invalid.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// The mail transport could not be set up.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The GitHub client could not be set up.
    #[error(transparent)]
    GitHub(#[from] GitHubApiError),
    /// The state store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file watcher could not be started.
    #[error("cannot watch the config files: {0}")]
    Watch(String),
    /// The listen address could not be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How long the worker waits after a file change before reconciling, so that an editor's burst
/// of writes becomes one reconciliation.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// How long after a failed send the worker tries again.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Runs the webhook receiver until `shutdown` completes, then finishes the queued requests.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let secret = config
        .webhook_secret
        .clone()
        .ok_or_else(|| ServeError::NoSecret(config.path.clone()))?;
    for series in &config.series {
        let roster = Roster::load(&series.roster)?;
        tracing::info!(series = %series.id, members = roster.len(), roster = %series.roster.display(), "series loaded");
    }
    let store = Arc::new(Store::open(&config.data_dir)?);
    let mailer = Arc::new(Mailer::new(&config.mail)?);
    let github = Client::new(&config.github)?;
    if !github.can_write() {
        tracing::warn!(
            "no GitHub token (INVITEBOT_GITHUB_TOKEN or GITHUB_TOKEN): replies on issues will be logged, not sent"
        );
    }
    let addr = config.server.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr, source })?;

    let max_body_bytes = config.server.max_body_bytes;
    tracing::info!(mail = mailer.transport_name(), github = %config.github.api_url, store = %store.path().display(), "pipeline ready");
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
    let wake = Arc::new(Wake::default());
    let mut watcher =
        FileWatcher::new(wake.notify.clone()).map_err(|e| ServeError::Watch(e.to_string()))?;
    // Watch from the start, so an edit made during the first reconciliation is not missed.
    watcher.set_files(&config_rx.borrow().files());
    spawn_sighup_listener(wake.clone());
    let reconciler = Reconciler::new(store, mailer, github.clone());
    let worker = tokio::spawn(work(
        Pipeline::new(config_tx, reconciler, github),
        queue,
        wake,
        watcher,
    ));
    let state = AppState {
        secret,
        max_body_bytes,
        config: config_rx,
        jobs,
    };

    tracing::info!("listening on {local}");
    let served = axum::serve(listener, webhook::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    tracing::info!("stopped accepting deliveries; finishing queued requests");
    // The router (and with it every sender) is gone: the worker ends when the queue is empty.
    if let Err(error) = worker.await {
        tracing::error!(%error, "the pipeline worker failed");
    }
    tracing::info!("stopped");
    served.map_err(|source| ServeError::Listen {
        addr: local,
        source,
    })
}

/// Why the worker should reconcile: a file changed (`notify`), or it must regardless (`force`:
/// start-up, SIGHUP, a retry).
#[derive(Default)]
struct Wake {
    notify: Arc<Notify>,
    force: AtomicBool,
}

impl Wake {
    fn forced(&self) {
        self.force.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// The single worker: requests and reconciliations, one at a time. Requests go first; a file
/// change schedules a reconciliation [`DEBOUNCE`] later (an editor's burst of writes becomes one
/// pass) without holding up the requests that arrive meanwhile.
async fn work(
    mut pipeline: Pipeline,
    mut queue: mpsc::Receiver<Job>,
    wake: Arc<Wake>,
    mut watcher: FileWatcher,
) {
    wake.forced();
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let reconcile_due = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            job = queue.recv() => match job {
                Some(job) => {
                    pipeline.handle(job).await;
                }
                None => break,
            },
            () = wake.notify.notified() => {
                due.get_or_insert_with(|| tokio::time::Instant::now() + DEBOUNCE);
            }
            () = reconcile_due => {
                due = None;
                let force = wake.force.swap(false, Ordering::SeqCst);
                let summary = pipeline.reconcile(force).await;
                watcher.set_files(&summary.files);
                if summary.failed > 0 {
                    tracing::warn!(failed = summary.failed, retry_in_seconds = RETRY_AFTER.as_secs(), "some calendar messages were not sent");
                    let wake = wake.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(RETRY_AFTER).await;
                        wake.forced();
                    });
                }
            }
        }
    }
}

/// SIGHUP makes the worker reload and reconcile, whatever the file watcher saw.
fn spawn_sighup_listener(wake: Arc<Wake>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP");
                return;
            }
        };
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP received: reloading and reconciling");
            wake.forced();
        }
    });
    #[cfg(not(unix))]
    drop(wake);
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
