//! Running the HTTP server: binding the address (with a clear error when it is taken),
//! structured request logs, graceful shutdown on Ctrl-C or SIGTERM, and the alert worker
//! (every rule on the schedule of `config/alerts.toml` and soon after data changes, then
//! the due deliveries, outside request handlers).

use std::net::SocketAddr;
use usalama_app::App;
use usalama_web::{AppState, WebConfig};

/// The address served when none is given.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Threads for the store's work (tokio's blocking pool; its default is 512): twice the
/// store's connections ([`usalama_store::POOL_CONNECTIONS`]). With one thread per waiting request, 50 concurrent requests kept
/// about 50 threads, most of them waiting for a connection, and each its own allocator
/// arena: 12 % more CPU per request and 291 MiB against 195 MiB on a list missing the page
/// cache (BENCHMARKS.md, "Twenty-third session"). Requests beyond it wait in the runtime.
const BLOCKING_THREADS: usize = 2 * usalama_store::POOL_CONNECTIONS as usize;

/// The server could not listen (exit code 5).
#[derive(Debug)]
pub struct BindError(pub String);

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BindError {}

/// Serves until Ctrl-C or SIGTERM. `on_ready` is called with the bound address.
pub fn serve(
    app: App,
    bind: &str,
    web: WebConfig,
    on_ready: Option<Box<dyn FnOnce(SocketAddr) + Send>>,
    delivery: usalama_app::DeliveryConfig,
) -> anyhow::Result<()> {
    let addr: SocketAddr = bind.parse().map_err(|_| {
        crate::cli::ConfigError(format!(
            "--bind '{bind}' is not an address like 127.0.0.1:8080"
        ))
    })?;
    // The installation's keys (the one that hashes SMS senders) exist from the first start.
    app.ensure_channel_keys()?;
    // The last handle on the store is dropped here, outside the runtime: closing the
    // PostgreSQL driver's connections blocks, which panics (and aborts) inside it.
    let keep = app.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()?;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "the address is already in use (is another usalama running?)".to_string()
                }
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (ports below 1024 need privileges)".to_string()
                }
                _ => e.to_string(),
            };
            BindError(format!("cannot listen on {addr}: {why}"))
        })?;
        let local = listener.local_addr()?;
        tokio::spawn(alert_worker(app.clone(), delivery));
        let state = AppState::new(app, web);
        let router = usalama_web::router(state);
        tracing::info!(%local, "listening");
        if let Some(f) = on_ready {
            f(local);
        }
        // The peer address feeds rate limits and log-in throttling (memory only).
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        tracing::info!("stopped");
        Ok(())
    });
    // Dropping the runtime cancels the alert worker, whose copy of the app is not the last.
    drop(rt);
    drop(keep);
    served
}

/// How long the worker waits after being woken, so that a burst of writes is judged once.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
/// How often due deliveries (retries) are looked for.
const DELIVERY_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// Evaluates every rule on the schedule and after data changes (when woken), and makes
/// the due deliveries; each step runs on a blocking thread.
async fn alert_worker(app: App, delivery: usalama_app::DeliveryConfig) {
    let notify = std::sync::Arc::new(tokio::sync::Notify::new());
    let n = notify.clone();
    app.set_alert_waker(std::sync::Arc::new(move || n.notify_one()));
    let every = std::time::Duration::from_secs(u64::from(app.alert_rules().schedule_minutes) * 60);
    let mut schedule = tokio::time::interval(every);
    let mut poll = tokio::time::interval(DELIVERY_POLL);
    let transport = std::sync::Arc::new(usalama_app::NetTransport::new(&delivery));
    // The public figures behind the home page and the map, and the dashboard's statistics,
    // are computed once before the first evaluation, so the first visitors after a start
    // do not wait for them (later refreshes serve the previous figures while one request
    // computes the next).
    let a = app.clone();
    let warmed =
        tokio::task::spawn_blocking(move || a.public_figures(None).and(a.public_stats())).await;
    if let Ok(Err(e)) = warmed {
        tracing::warn!(error = %e, "public figures could not be computed at start");
    }
    loop {
        let full = tokio::select! {
            _ = schedule.tick() => true,
            _ = notify.notified() => {
                tokio::time::sleep(SETTLE).await;
                false
            }
            _ = poll.tick() => false,
        };
        let a = app.clone();
        let t = transport.clone();
        let d = delivery.clone();
        let done = tokio::task::spawn_blocking(move || {
            let evaluated = if full {
                a.evaluate_alerts(&usalama_app::Principal::Operator)
                    .map(Some)
            } else {
                a.evaluate_alerts_if_due()
            };
            match evaluated {
                Ok(Some(e)) if !e.raised.is_empty() => {
                    tracing::info!(raised = e.raised.len(), "alerts raised")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "alert evaluation failed"),
            }
            match a.deliver_due(t.as_ref(), &d) {
                Ok(r) if r.attempted > 0 => tracing::info!(
                    attempted = r.attempted,
                    delivered = r.delivered,
                    retrying = r.retrying,
                    failed = r.failed,
                    "alert deliveries"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "alert delivery failed"),
            }
        })
        .await;
        if let Err(e) = done {
            tracing::error!(error = %e, "alert worker step panicked");
        }
    }
}

async fn shutdown_signal() {
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
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
