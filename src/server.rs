//! `invitebot serve`: wires the config, the state store, the pipeline's worker, the file watcher
//! and the HTTP edge together, and stops cleanly on SIGTERM or Ctrl-C (finishing the requests
//! already accepted). SIGHUP reloads the config and reconciles.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::config::{Config, ConfigError, env};
use crate::core::series::{ConfirmEmail, Series};
use crate::github::client::Client;
use crate::github::error::GitHubApiError;
use crate::github::oauth::SignIn;
use crate::github::repos::{self, RepoLookup};
use crate::links::LinkMaker;
use crate::links::pages::{self, PageState};
use crate::mail::{MailError, Mailer};
use crate::meetings::{self, MeetingsState};
use crate::pipeline::Pipeline;
use crate::reconcile::Reconciler;
use crate::retention::{RetentionPolicy, Swept};
use crate::roster::{Roster, RosterError};
use crate::store::{GroupCommit, Store, StoreError};
use crate::watch::FileWatcher;
use crate::webhook::budget::RequestBudget;
use crate::webhook::connections::{self, ConnectionLimits};
use crate::webhook::delivery_log::DeliveryLog;
use crate::webhook::failed_signatures::FailedSignatureLimiter;
use crate::webhook::recent_deliveries::RecentDeliveries;
use crate::webhook::rejections::Rejections;
use crate::webhook::settings::ServerConfig;
use crate::webhook::{self, AdminState, AppParts, AppState};

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
    /// The link key could not be read or made.
    #[error(transparent)]
    LinkKey(#[from] crate::links::key::KeyError),
    /// The worker thread could not be started.
    #[error("cannot start the worker thread: {0}")]
    Worker(std::io::Error),
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

/// How long the worker waits after the last file change before reconciling, so that an editor's burst
/// of writes becomes one reconciliation.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest a stream of file changes can hold the reconciliation back.
const MAX_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the worker erases personal data past `[storage] retention_days`.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// How often the worker looks for catch-up work on GitHub.
const CATCH_UP_EVERY: Duration = Duration::from_secs(600);
/// The longest the worker sleeps without looking at the store (work queued by `invitebot
/// replay`, for instance, is picked up within this).
const POLL: Duration = Duration::from_secs(5);
/// How long shutdown waits for the step in progress before leaving it to the next start.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// Looks up every configured repository on GitHub (see [`repos`]), logs what it found (a
/// rename, or no answer: then deliveries are matched by name only), and gives the series their
/// repositories' ids.
async fn identify_repositories(github: &Client, series: &mut [Series]) -> Vec<RepoLookup> {
    let lookups = repos::look_up(github, series).await;
    for lookup in &lookups {
        match lookup {
            RepoLookup::Found { .. } if lookup.renamed_to().is_none() => {
                tracing::info!("{}", lookup.message())
            }
            _ => tracing::warn!("{}", lookup.message()),
        }
    }
    repos::apply(&lookups, series);
    lookups
}

/// Runs the webhook receiver until `shutdown` completes; the step in progress is finished, the
/// rest stays in the store for the next start.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let secrets = config
        .webhook
        .secrets
        .clone()
        .ok_or_else(|| ServeError::NoSecret(config.path.clone()))?;
    for series in &config.series {
        let roster = Roster::load(&series.roster)?;
        tracing::info!(series = %series.id, members = roster.len(), roster = %series.roster.display(), "series loaded");
    }
    let metrics = crate::telemetry::Metrics::install();
    let store = Arc::new(Store::open(&config.data_dir)?);
    let _checkpoints = store.checkpoint_in_background()?;
    let mailer = Arc::new(Mailer::new(&config.mail)?);
    let link_key = crate::links::key::load_or_create(&config.links, &config.data_dir)?;
    if config.links.public_url.is_none() {
        tracing::info!(
            "no [server] public_url: invitations carry no one-click leave link and requests get no private email form"
        );
        for series in config
            .series
            .iter()
            .filter(|s| s.guard.confirm_email != ConfirmEmail::Never)
        {
            tracing::warn!(series = %series.id, confirm_email = series.guard.confirm_email.as_str(), "no [server] public_url, so no confirmation link can be mailed: a request with a typed address waits for a maintainer's approval label");
        }
    }
    let github = Client::new(&config.github)?;
    let sign_in = match &config.github.oauth {
        Some(oauth) => {
            tracing::info!("private email form: the issue's author signs in with GitHub first");
            Some(Arc::new(SignIn::new(oauth, &config.github.api_url)?))
        }
        None => None,
    };
    if let Some(app) = &config.github.app {
        tracing::info!(app_id = app.id(), "GitHub: authenticating as a GitHub App");
    } else if !github.can_write() {
        tracing::warn!(
            "no GitHub token (INVITEBOT_GITHUB_TOKEN or GITHUB_TOKEN) or GitHub App (INVITEBOT_GITHUB_APP_ID, INVITEBOT_GITHUB_APP_KEY_FILE): replies on issues will be logged, not sent"
        );
    }
    let repositories = identify_repositories(&github, &mut config.series).await;
    let listener = bind(config.server.listen).await?;
    let admin_listener = bind(config.server.admin_listen).await?;

    let edge = config.server.clone();
    let failed_signature_limit = config.webhook.failed_signature_limit;
    tracing::info!(mail = mailer.transport_name(), github = %config.github.api_url, store = %store.path().display(), "pipeline ready");
    let links_settings = config.links.clone();
    let retention = RetentionSweep::new(RetentionPolicy::of(&config));
    let meetings_settings = config.meetings.clone();
    if !meetings_settings.enabled {
        tracing::info!("[server] page = false: no meetings page at / and no calendar feeds");
    }
    let (series_tx, series_rx) = watch::channel(Arc::new(config.series.clone()));
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let wake = Arc::new(Wake::default());
    let mut watcher =
        FileWatcher::new(wake.files.clone()).map_err(|e| ServeError::Watch(e.to_string()))?;
    // Watch from the start, so an edit made during the first reconciliation is not missed.
    watcher.set_files(&config_rx.borrow().files());
    spawn_sighup_listener(wake.clone());
    let links = LinkMaker::new(link_key, links_settings, series_rx.clone());
    let reconciler = Reconciler::new(store.clone(), mailer, github.clone(), links.clone());
    let published = crate::pipeline::Published {
        config: config_tx,
        series: series_tx,
    };
    let pipeline = Pipeline::new(published, store.clone(), reconciler, github, links.clone())
        .knowing_repositories(repositories);
    let pages = PageState {
        sign_in,
        links,
        store: store.clone(),
        wake: wake.work.clone(),
    };
    let meetings = MeetingsState::new(meetings_settings, series_rx.clone());
    let (stop, stopped) = watch::channel(false);
    let worker = spawn_worker(work(
        pipeline,
        store.clone(),
        wake.clone(),
        watcher,
        retention,
        stopped,
    ))
    .map_err(ServeError::Worker)?;
    let (delivery_log, delivery_log_writer) =
        DeliveryLog::start(store.clone()).map_err(ServeError::Worker)?;
    let accepts = GroupCommit::start(store.clone()).map_err(ServeError::Worker)?;
    let rejections = Arc::new(Rejections::default());
    rejections.clone().log_every(edge.log_summary_interval);
    let limiter = Arc::new(FailedSignatureLimiter::new(failed_signature_limit));
    let admin = AdminState {
        store: store.clone(),
        metrics,
    };
    let state = AppState::new(AppParts {
        secrets,
        max_body_bytes: edge.max_body_bytes,
        request_timeout: edge.request_timeout,
        budget: Arc::new(RequestBudget::new(
            &edge,
            rejections.clone(),
            limiter.clone(),
        )),
        limiter,
        rejections: rejections.clone(),
        series: series_rx,
        store,
        wake: wake.work.clone(),
        delivery_log,
        accepts,
        recent: RecentDeliveries::default(),
    });
    let listeners = Listeners {
        public: listener,
        admin: admin_listener,
    };
    listeners
        .serve(
            webhook::router(
                state,
                pages::router(pages).merge(meetings::router(meetings)),
            ),
            webhook::admin_router(admin),
            &edge,
            rejections,
            shutdown,
        )
        .await;
    tracing::info!("stopped accepting deliveries; finishing the step in progress");
    // The router (and with it every sender) is gone: the log writes what it holds and ends.
    let flushed = tokio::task::spawn_blocking(move || delivery_log_writer.join());
    if tokio::time::timeout(STOP_GRACE, flushed).await.is_err() {
        tracing::warn!("the last ignored deliveries were not recorded in time");
    }
    let _ = stop.send(true);
    match tokio::time::timeout(STOP_GRACE, worker).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => tracing::error!("the pipeline worker failed"),
        Err(_) => tracing::warn!(
            "the step in progress did not finish in time; it is retried at the next start"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Binds `addr`, or says which address could not be had.
async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

/// The two listeners: public (webhook, link pages) and operations (metrics, readiness).
struct Listeners {
    public: TcpListener,
    admin: TcpListener,
}

impl Listeners {
    /// Serves `public` and `admin` until `shutdown` completes, then until every connection of
    /// both has finished its request.
    async fn serve(
        self,
        public: axum::Router,
        admin: axum::Router,
        edge: &ServerConfig,
        rejections: Arc<Rejections>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let (stop, stopping) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let stopped = |mut stopping: watch::Receiver<bool>| async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        for (what, listener) in [
            ("listening on", &self.public),
            ("operations endpoints on", &self.admin),
        ] {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!("{what} {addr}");
            }
        }
        let admin = connections::serve(
            self.admin,
            admin,
            ConnectionLimits::admin(edge),
            rejections.clone(),
            stopped(stopping.clone()),
        );
        let public = connections::serve(
            self.public,
            public,
            ConnectionLimits::public(edge),
            rejections,
            stopped(stopping),
        );
        tokio::join!(admin, public);
    }
}

/// How much lower than the edge's the worker's scheduling priority is (a Linux nice value).
const WORKER_NICENESS: i32 = 10;

/// Runs the worker on a thread of its own with its own runtime: its SQLite calls and file I/O
/// then never hold up the HTTP edge, even on a single CPU. The thread runs
/// [`WORKER_NICENESS`] lower than the edge, so that on a small host the work a request brings
/// waits for the acknowledgement of the next one, not the other way round (join requests at
/// 1,000 a second, all on one CPU: median 0.34 ms instead of 0.44, p90 0.6 instead of 0.85).
/// The receiver completes when it ends.
fn spawn_worker(
    worker: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    let (done, finished) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("invitebot-worker".into())
        .spawn(move || {
            lower_priority(WORKER_NICENESS);
            runtime.block_on(worker);
            let _ = done.send(());
        })?;
    Ok(finished)
}

/// Lowers the calling thread's scheduling priority by `niceness` (Linux, where the nice value
/// belongs to the thread; at most to 19); elsewhere, or if refused, the thread keeps the
/// process's.
fn lower_priority(niceness: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the three calls take and return plain integers and touch no memory of ours.
        let lowered = unsafe {
            let thread = libc::gettid() as libc::id_t;
            let now = libc::getpriority(libc::PRIO_PROCESS, thread);
            libc::setpriority(libc::PRIO_PROCESS, thread, (now + niceness).min(19))
        } == 0;
        if !lowered {
            let error = std::io::Error::last_os_error();
            tracing::info!(%error, "the worker runs at the edge's priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = niceness;
}

/// What wakes the worker: queued requests (`work`), file changes (`files`), and `force` for a
/// reconciliation whatever the files say (start-up, SIGHUP).
#[derive(Default)]
struct Wake {
    work: Arc<Notify>,
    files: Arc<Notify>,
    force: AtomicBool,
}

impl Wake {
    fn forced(&self) {
        self.force.store(true, Ordering::SeqCst);
        self.files.notify_one();
    }
}

/// The single worker. In order of priority: due jobs, due replies, a due reconciliation (a file
/// changed, a forced pass, or failed mail due for a retry), a due catch-up; then it sleeps until
/// the next due time, a wake-up, or [`POLL`].
async fn work(
    mut pipeline: Pipeline,
    store: Arc<Store>,
    wake: Arc<Wake>,
    mut watcher: FileWatcher,
    mut retention: RetentionSweep,
    mut stop: watch::Receiver<bool>,
) {
    wake.forced();
    let mut reconcile_due: Option<Instant> = None;
    // The first file change not reconciled yet: the wait restarts at each change (an editor's
    // save is several events), but not beyond MAX_DEBOUNCE after the first.
    let mut changed_since: Option<Instant> = None;
    let mut catch_up_due = Instant::now();
    while !*stop.borrow() {
        match step(
            &mut pipeline,
            &store,
            &wake,
            &mut watcher,
            &mut reconcile_due,
            &mut catch_up_due,
            &mut retention,
        )
        .await
        {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::error!(%error, "the state store failed; trying again shortly"),
        }
        if reconcile_due.is_none() {
            changed_since = None;
        }
        let next_due = store.next_due_at().ok().flatten().map(|at| {
            let wait = at.duration_since(jiff::Timestamp::now()).unsigned_abs();
            Instant::now()
                + if at <= jiff::Timestamp::now() {
                    Duration::ZERO
                } else {
                    wait
                }
        });
        let wake_at = [
            next_due,
            reconcile_due,
            Some(catch_up_due),
            Some(retention.due),
            Some(Instant::now() + POLL),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("POLL is always there");
        tokio::select! {
            () = wake.work.notified() => {}
            () = wake.files.notified() => {
                let now = Instant::now();
                let first = *changed_since.get_or_insert(now);
                reconcile_due = Some((now + DEBOUNCE).min(first + MAX_DEBOUNCE));
            }
            () = tokio::time::sleep_until(wake_at) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Does the most urgent due piece of work; returns whether there was one.
async fn step(
    pipeline: &mut Pipeline,
    store: &Store,
    wake: &Wake,
    watcher: &mut FileWatcher,
    reconcile_due: &mut Option<Instant>,
    catch_up_due: &mut Instant,
    retention: &mut RetentionSweep,
) -> Result<bool, crate::store::StoreError> {
    if pipeline.process_next_job().await? || pipeline.process_next_reply().await? {
        return Ok(true);
    }
    let now = Instant::now();
    let mail_due = store.mail_retry_due(jiff::Timestamp::now())?;
    if reconcile_due.is_some_and(|at| at <= now) || mail_due {
        *reconcile_due = None;
        let force = wake.force.swap(false, Ordering::SeqCst) || mail_due;
        let summary = pipeline.reconcile(force).await;
        crate::telemetry::reconcile_run();
        watcher.set_files(&summary.files);
        return Ok(true);
    }
    if *catch_up_due <= now {
        *catch_up_due = now + CATCH_UP_EVERY;
        pipeline.catch_up().await;
        return Ok(true);
    }
    if retention.due <= now {
        retention.run(store);
        return Ok(true);
    }
    Ok(false)
}

/// The retention sweep: at start, then every [`RETENTION_EVERY`].
struct RetentionSweep {
    policy: RetentionPolicy,
    due: Instant,
}

impl RetentionSweep {
    fn new(policy: RetentionPolicy) -> Self {
        Self {
            policy,
            due: Instant::now(),
        }
    }

    /// Sweeps once and schedules the next; a failure is logged (the next sweep tries again).
    fn run(&mut self, store: &Store) {
        self.due = Instant::now() + RETENTION_EVERY;
        match crate::retention::sweep(store, &self.policy, jiff::Timestamp::now()) {
            Ok(swept) if swept == Swept::default() => {}
            Ok(swept) => tracing::info!(
                days = self.policy.days,
                requests = swept.store.requests,
                confirmations = swept.store.confirmations,
                mail_files = swept.mail_files,
                "personal data past the retention period erased"
            ),
            Err(error) => {
                tracing::error!(%error, "erasing personal data past the retention period failed")
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

/// Completes on SIGTERM or Ctrl-C. The SIGTERM handler is installed when this is called (call
/// it inside the runtime, before the server says it listens), so a SIGTERM that comes right
/// after start-up stops the server cleanly instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::error!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
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
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The calling thread's nice value, as the kernel reports it.
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn only_the_lowered_thread_runs_nicer() {
        let before = own_nice();
        let lowered = std::thread::spawn(|| {
            super::lower_priority(3);
            own_nice()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (before + 3).min(19));
        assert_eq!(own_nice(), before);
    }
}
