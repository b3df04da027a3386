//! `invitebot serve`: wires the config, the pipeline's worker and the HTTP edge together, and
//! stops cleanly on SIGTERM or Ctrl-C (finishing the join requests already accepted).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::{Config, ConfigError, env};
use crate::github::client::{Client, GitHubApiError};
use crate::mail::{MailError, Mailer};
use crate::pipeline::{Job, Pipeline};
use crate::roster::{Roster, RosterError};
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
    /// The listen address could not be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Runs the webhook receiver until `shutdown` completes, then finishes the queued join requests.
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
    let mailer = Mailer::new(&config.mail)?;
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

    let config = Arc::new(config);
    let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
    tracing::info!(mail = mailer.transport_name(), github = %config.github.api_url, "pipeline ready");
    let worker = tokio::spawn(work(Pipeline::new(config.clone(), mailer, github), queue));
    let state = AppState {
        secret,
        max_body_bytes: config.server.max_body_bytes,
        config,
        jobs,
    };

    tracing::info!("listening on {local}");
    let served = axum::serve(listener, webhook::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    tracing::info!("stopped accepting deliveries; finishing queued join requests");
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

/// The single worker: join requests are handled one at a time, in arrival order.
async fn work(pipeline: Pipeline, mut queue: mpsc::Receiver<Job>) {
    while let Some(job) = queue.recv().await {
        pipeline.handle(job).await;
    }
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
