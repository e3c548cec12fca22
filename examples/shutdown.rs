//! The signal that starts a graceful shutdown, shared by the example servers that serve HTTP.

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what `kill` and container runtimes send).
pub(crate) async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    // Without a SIGTERM handler (it cannot be installed) Ctrl-C alone still works.
    let mut term = signal(SignalKind::terminate()).ok();
    let terminate = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
