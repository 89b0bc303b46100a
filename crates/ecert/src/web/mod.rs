//! `ecert serve`: the issuer's public verification service (R-6.3b, R-6.3c, R-6.4.1,
//! R-6.5h) and the business-system API (R-5.2.1, R-7.2.2c, R-7.2.2d).
//!
//! - Public, no login: `GET /v/{token}` (where the 2D code leads), `GET /lookup?number=&code=`
//!   (number + check code), `POST /verify` (upload a file: signature report plus the comparison
//!   with our records), the start page `/` with both forms. Every page is also JSON
//!   (`Accept: application/json`); Chinese first, `?lang=en` for English; no JavaScript.
//! - `/api/v1`: issue, revise, status, download, list — each request signed with the client's
//!   own HMAC-SM3 key ([`auth`]), stale or replayed requests refused, `Idempotency-Key` honoured,
//!   every exchange written to the audit log.
//! - Operations: `/healthz`, Prometheus `/metrics`, security headers, body limits, per-address
//!   rate limits for lookups and uploads, structured logs, graceful shutdown.
//!
//! Docs: docs/serve.md.

mod admission;
pub mod api;
pub mod auth;
mod cache;
mod console;
mod error;
mod explain;
mod extract;
mod metrics;
pub mod ops;
pub mod pages;
mod portal;
mod refusals;
mod security;
mod tls;
mod upload;
mod view;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;

pub(crate) use error::Error;
pub use tls::TlsError;
pub(crate) use view::{Lang, enc};

use crate::config::{Config, ServerConfig};
use crate::service::Instance;

/// The running service's shared state.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Shared>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    pub(crate) instance: Instance,
    pub(crate) server: ServerConfig,
    pub(crate) pages: cache::PageCache,
    pub(crate) previews: cache::PreviewCache,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) lookup_limit: security::RateLimiter,
    pub(crate) verify_limit: security::RateLimiter,
    /// Bounds concurrent CPU-heavy work (previews, uploads): one turn per core, the runtime's
    /// number of workers (an upload's verification runs on the worker that holds the turn).
    pub(crate) heavy: tokio::sync::Semaphore,
    /// Turns for the API's issuing calls (`issue_workers`, `issue_queue`).
    pub(crate) issuing: admission::Admission,
    /// How many refused unauthenticated requests are recorded one by one.
    pub(crate) refusals: refusals::RefusalLog,
    /// This process as the owner of the idempotency keys it claims: host name and a random id.
    pub(crate) owner: String,
    /// The customer portal's gateways and login limits.
    pub(crate) portal: portal::PortalState,
    /// Portal cookies carry `Secure` (TLS here, behind a TLS proxy, or an `https` base URL).
    pub(crate) portal_secure: bool,
}

/// A name for this process among those that use the store: the host name and a random id
/// (a process id repeats after a restart; a random one does not).
fn process_owner() -> Result<String, ServeError> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let mut id = [0u8; 12];
    getrandom::fill(&mut id).map_err(|e| crate::service::Error::Internal {
        what: "系统随机数 (random source)",
        source: Box::new(e),
    })?;
    Ok(format!("{host}/{}", ecert_store::hex(&id)))
}

/// Why `ecert serve` cannot start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The instance cannot be opened or served (configuration, store, trust roots).
    #[error(transparent)]
    Service(#[from] crate::service::Error),
    /// `[server]` or the environment is refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// `listen` is not `IP:PORT`.
    #[error("监听地址无效 {0} (listen must be IP:PORT)")]
    ListenAddress(String),
    /// Plain HTTP off loopback without `allow_plain_http`.
    #[error(
        "明文 HTTP 仅允许监听本机回环地址：{0} 不是回环地址。请在 TLS 反向代理之后运行并在 [server] 中设置 allow_plain_http = true \
         (plain HTTP only on loopback; behind a TLS proxy set allow_plain_http = true)"
    )]
    PlainHttp(SocketAddr),
    /// The address cannot be listened on.
    #[error("无法监听 {addr} (cannot listen)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The server failed while running.
    #[error("服务出错 (the server failed)")]
    Io(#[source] std::io::Error),
    /// `[notify]` cannot be used (a secret missing, a console gateway on a production instance).
    #[error(transparent)]
    Notify(#[from] crate::service::notify::NotifyError),
}

impl App {
    /// The service over an opened instance (its `[server]` settings as they are now).
    pub fn new(instance: Instance) -> Result<App, ServeError> {
        instance.config.server.check()?;
        // The trust roots are read now, so that a wrong path stops the server at start.
        instance.verify_options()?;
        let server = instance.config.server.clone();
        let cache_dir = instance.dir.join("cache").join("previews");
        let cfg = &instance.config;
        let notifier = crate::service::notify::Notifier::from_config(
            &cfg.notify,
            cfg.instance.demo,
            &instance.dir,
            &cfg.institute.name,
        )?;
        let portal_secure = server.tls_cert.is_some()
            || server.allow_plain_http
            || cfg.instance.base_url.starts_with("https://");
        let portal = portal::PortalState {
            notifier: Arc::new(notifier),
            logins: security::RateLimiter::new(cfg.portal.logins_per_minute),
        };
        Ok(App {
            inner: Arc::new(Shared {
                pages: cache::PageCache::new(std::time::Duration::from_secs(
                    server.status_cache_secs,
                )),
                previews: cache::PreviewCache::new(cache_dir),
                metrics: metrics::Metrics::default(),
                lookup_limit: security::RateLimiter::new(server.lookup_per_minute),
                verify_limit: security::RateLimiter::new(server.verify_per_minute),
                refusals: refusals::RefusalLog::new(
                    server.refusals_logged_per_address,
                    server.refusals_logged_per_minute,
                ),
                heavy: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
                ),
                issuing: admission::Admission::new(server.issue_workers, server.issue_queue),
                owner: process_owner()?,
                portal,
                portal_secure,
                server,
                instance,
            }),
        })
    }

    /// Resolves the idempotency keys that dead processes left pending (`ecert serve` does it
    /// once at start-up, before it answers requests): see [`api::recover_dead_requests`].
    pub async fn recover_dead_requests(&self) -> Result<api::Recovered, crate::service::Error> {
        api::recover_dead_requests(self).await
    }

    /// The instance served.
    pub fn instance(&self) -> &Instance {
        &self.inner.instance
    }

    /// A trial (demo) instance: its pages say 试用 TEST.
    pub(crate) fn trial(&self) -> bool {
        self.inner.instance.config.instance.demo
    }

    /// Forgets cached status pages (call after changing certificates outside this server in
    /// the same process; the server's own changes do it themselves).
    pub fn invalidate(&self) {
        self.inner.pages.clear();
    }

    /// The whole router — the public pages ([`pages`]), the business-system API ([`api`]) and
    /// the operators' routes ([`ops`]) — with the security layers.
    pub fn router(&self) -> Router {
        pages::router(self.clone())
            .merge(portal::router(self.clone()))
            .merge(console::router(self.clone()))
            .merge(api::router(self.clone()))
            .merge(ops::router(self.clone()))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                security::observe,
            ))
    }
}

/// How long an idempotency key answers a retry with the first response: 24 hours.
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;
/// A key still pending this long after it was claimed belongs to a request that died with its
/// process (no request runs for 15 minutes): a retry may then proceed.
pub const STALE_PENDING_SECS: i64 = 15 * 60;
/// How often `ecert serve` does its housekeeping (and once at start).
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// What one round of [`App::housekeeping_at`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekeeping {
    /// Request nonces too old to matter: a request that old is refused by its timestamp.
    pub nonces: u64,
    /// Idempotency keys left pending by requests that died.
    pub stale_pending: u64,
    /// Idempotency keys past [`IDEMPOTENCY_WINDOW_SECS`].
    pub expired_keys: u64,
    /// Portal and console sessions past their idle or absolute time-out.
    pub sessions: u64,
    /// Registrations nobody confirmed within a day, and one-time codes older than a day.
    pub unfinished: u64,
}

impl App {
    /// Forgets what the API's replay protection and idempotency no longer need, as of
    /// `now_ms` (ms since the Unix epoch): without it both tables grow with every request.
    /// A nonce is kept twice the allowed clock skew: a replay later than that carries a
    /// timestamp the API refuses anyway.
    pub async fn housekeeping_at(
        &self,
        now_ms: i64,
    ) -> Result<Housekeeping, crate::service::Error> {
        let store = &self.inner.instance.store;
        let skew_ms = i64::try_from(self.inner.server.api_max_skew_secs)
            .unwrap_or(i64::MAX / 4_000)
            .saturating_mul(1000);
        let (sessions, accounts, codes) = self
            .inner
            .instance
            .portal_housekeeping(now_ms)
            .await
            .map_err(|e| match e {
                crate::service::portal::PortalError::Service(e) => e,
                other => crate::service::Error::Invalid {
                    field: "portal housekeeping",
                    problem: other.to_string(),
                },
            })?;
        let staff_sessions = store
            .purge_staff_sessions(now_ms - crate::service::staff::STAFF_IDLE_MS)
            .await?;
        Ok(Housekeeping {
            sessions: sessions + staff_sessions,
            unfinished: accounts + codes,
            nonces: store
                .purge_nonces(now_ms.saturating_sub(skew_ms.saturating_mul(2)))
                .await?,
            stale_pending: store
                .release_stale_idempotency(now_ms - STALE_PENDING_SECS * 1000)
                .await?,
            expired_keys: store
                .purge_idempotency(now_ms - IDEMPOTENCY_WINDOW_SECS * 1000)
                .await?,
        })
    }

    /// [`App::housekeeping_at`] now, and again every ten minutes, for as long as the runtime
    /// lives (`ecert serve` starts it; failures are logged, the next round tries again).
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // One node at a time (the lease in the database; on SQLite the one server).
                if !app.lease("housekeeping", HOUSEKEEPING_EVERY).await {
                    continue;
                }
                match app
                    .housekeeping_at(api::unix_now().saturating_mul(1000))
                    .await
                {
                    Ok(done) => tracing::debug!(?done, "housekeeping"),
                    Err(e) => tracing::error!(error = %e.chain(), "housekeeping (清理) failed"),
                }
            }
        })
    }

    /// Writes the summary of refused requests left out during a minute that ended (`force`:
    /// the current one too, at shutdown). Returns whether one was written.
    pub async fn flush_refusals(&self, now_ms: i64, force: bool) -> bool {
        let Some(details) = self.inner.refusals.flush(now_ms, force) else {
            return false;
        };
        api::log_refusal_summary(self, &details).await;
        true
    }

    /// [`App::flush_refusals`] every minute, for as long as the runtime lives.
    pub fn spawn_refusal_flush(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                app.flush_refusals(api::unix_now().saturating_mul(1000), false)
                    .await;
            }
        })
    }

    /// Scrubs when `[storage] scrub_every_hours` says one is due (looked at now and every hour;
    /// R-6.5g), results in the audit log and `/metrics`. With several nodes over one database,
    /// the node holding the `scrub` lease runs it.
    pub fn spawn_scrub(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match app.inner.instance.scrub_if_due(&app.inner.owner).await {
                    Ok(Some(r)) => tracing::info!(
                        checked = r.checked,
                        problems = r.problems.len(),
                        repaired = r.repaired,
                        lost = r.lost.len(),
                        "存储校验 (scrub)"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e.chain(), "存储校验 (scrub) failed"),
                }
            }
        })
    }

    /// Takes or renews the lease `name` for this process for `ttl` (scheduled work done by one
    /// node at a time: the lease lives in the database, so every node sees it). `false`: another
    /// live node holds it, or the database could not say (then nobody does the work this round).
    pub async fn lease(&self, name: &str, ttl: std::time::Duration) -> bool {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        match self
            .instance()
            .store
            .take_lease(name, &self.inner.owner, ms)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, lease = name, "lease (租约) not taken");
                false
            }
        }
    }

    /// Drops the page cache whenever any process announces a change of a certificate
    /// (PostgreSQL `LISTEN`; nothing on SQLite, where this server makes the changes it shows
    /// and the CLI's show after the cache's few seconds). A lost connection drops it too: a
    /// change may have been missed.
    pub fn spawn_change_listener(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                let listener = app.instance().store.listen_changes().await;
                let mut listener = match listener {
                    Ok(Some(l)) => l,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for changes (监听变更) failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Changes made before the listener was up are dropped too.
                app.invalidate();
                loop {
                    match listener.next().await {
                        Ok(_) => app.invalidate(),
                        Err(e) => {
                            app.invalidate();
                            tracing::warn!(error = %e, "change listener lost (监听中断); reconnecting");
                            break;
                        }
                    }
                }
            }
        })
    }

    /// Measures the time against the NTP servers now and every `[time] poll_secs` (R-7.2.2a),
    /// for as long as the runtime lives; nothing on an instance without servers.
    pub fn spawn_time_polling(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let instance = &app.inner.instance;
            let cfg = &instance.config;
            if cfg.time.servers(cfg.instance.demo).is_empty() {
                return;
            }
            let every = std::time::Duration::from_secs(cfg.time.poll_secs.max(1));
            let mut every = tokio::time::interval(every);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match instance.measure_time().await {
                    Ok(m) => tracing::debug!(offset_ms = m.offset_ms, server = %m.server, "time"),
                    Err(e) => tracing::warn!(error = %e, "时间测量失败 (time measurement failed)"),
                }
            }
        })
    }

    /// Signs the audit chain's head into a checkpoint beside every replica whenever `[audit]`
    /// says one is due (R-7.2.2b; looked at every five seconds), for as long as the runtime
    /// lives.
    pub fn spawn_audit_checkpoints(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let period = std::time::Duration::from_secs(5);
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // One node at a time signs checkpoints (the lease outlives a few periods, so
                // the node that holds it keeps it while it lives).
                if !app.lease("checkpoint", period * 6).await {
                    continue;
                }
                match app.inner.instance.checkpoint_if_due(false).await {
                    Ok(Some(cp)) => tracing::debug!(seq = cp.seq, "audit checkpoint"),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %e.chain(), "审计检查点 (audit checkpoint) failed");
                    }
                }
            }
        })
    }
}

/// True for addresses only this machine can reach.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.router()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves `app` over HTTPS (rustls) with the PEM certificate chain and key, until `shutdown`.
pub async fn serve_tls(
    app: App,
    listener: tokio::net::TcpListener,
    cert: &Path,
    key: &Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use axum::serve::ListenerExt;
    let config = tls::server_config(cert, key)?;
    let listener = tls::TlsListener::new(listener, config)
        .map_err(ServeError::Io)?
        .tap_io(|_| {});
    let router = app.router().layer(axum::middleware::map_response(
        |mut r: axum::response::Response| async move {
            r.headers_mut().insert(
                axum::http::header::STRICT_TRANSPORT_SECURITY,
                axum::http::HeaderValue::from_static("max-age=31536000"),
            );
            r
        },
    ));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServeError::Io)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("正在停止 (shutting down): finishing requests in flight");
}

fn init_logs(server: &ServerConfig) {
    let filter = tracing_subscriber::EnvFilter::try_new(&server.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests) keeps the first subscriber.
    let _ = if server.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `ecert serve`: opens the instance in `dir`, applies the environment and `listen`, and
/// serves until Ctrl-C / SIGTERM.
pub async fn run(dir: &Path, listen: Option<&str>) -> Result<(), ServeError> {
    let mut instance = Instance::open(dir).await?;
    instance.config.server.apply_env(std::env::vars())?;
    if let Some(l) = listen {
        instance.config.server.listen = l.to_owned();
    }
    let server = instance.config.server.clone();
    init_logs(&server);
    let addr: SocketAddr = server
        .listen
        .parse()
        .map_err(|_| ServeError::ListenAddress(server.listen.clone()))?;
    let tls = match (&server.tls_cert, &server.tls_key) {
        (Some(c), Some(k)) => Some((Config::resolve(dir, c), Config::resolve(dir, k))),
        _ => None,
    };
    if tls.is_none() && !is_loopback(&addr) && !server.allow_plain_http {
        return Err(ServeError::PlainHttp(addr));
    }
    if let Some((c, k)) = &tls {
        // Fail before listening when the files are wrong.
        tls::server_config(c, k)?;
    }
    let app = App::new(instance)?;
    // This process's liveness, for the other nodes (held until the process ends).
    let _alive = app
        .instance()
        .store
        .hold_process_lock(&app.inner.owner)
        .await
        .map_err(crate::service::Error::from)?;
    // Before the first request: a retry of a request that died with the last process is then
    // answered at once.
    let recovered = app.recover_dead_requests().await?;
    if recovered != api::Recovered::default() {
        tracing::info!(
            ?recovered,
            "idempotency keys of a dead process resolved (已恢复)"
        );
    }
    let _housekeeping = app.spawn_housekeeping();
    let _checkpoints = app.spawn_audit_checkpoints();
    let _time = app.spawn_time_polling();
    let _refusals = app.spawn_refusal_flush();
    let _scrub = app.spawn_scrub();
    let _changes = app.spawn_change_listener();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::Io)?;
    let base = app.instance().config.instance.base_url.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%local, base_url = %base, scheme, "ecert serve 已启动 (listening)");
    println!("ecert serve: {scheme}://{local}/  (验证网址 base URL: {base})");
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    match tls {
        Some((c, k)) => serve_tls(app.clone(), listener, &c, &k, shutdown_signal()).await?,
        None => serve(app.clone(), listener, shutdown_signal())
            .await
            .map_err(ServeError::Io)?,
    }
    // Entries of requests whose clients went away are still being committed on their own
    // tasks: they are in the chain before the last checkpoint, and before the runtime goes.
    app.instance().audit_settled().await;
    app.flush_refusals(api::unix_now().saturating_mul(1000), true)
        .await;
    // What was appended since the last checkpoint is covered before the process ends.
    if let Err(e) = app.instance().checkpoint_if_due(true).await {
        tracing::error!(error = %e.chain(), "审计检查点 (audit checkpoint) failed");
    }
    Ok(())
}
