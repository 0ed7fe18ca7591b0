//! What every resource call gets besides its request: the means to notice Terraform asking
//! the provider to stop.

use tokio_util::sync::CancellationToken;

/// Per-call context. Cheap to clone.
///
/// Provider-level configuration (clients, credentials) is not here: a provider hands its
/// resources an `Arc` of its own configured state when it creates them, so they can reach it
/// with its real type.
#[derive(Clone, Debug)]
pub struct Context {
    cancellation: CancellationToken,
}

impl Context {
    pub fn new(cancellation: CancellationToken) -> Self {
        Context { cancellation }
    }

    /// Cancelled when Terraform sends StopProvider (the user pressed Ctrl-C). Long work should
    /// `select!` on [`Context::stopped`] and return promptly, with state for whatever it
    /// already created.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancellation
    }

    pub fn is_stopping(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    pub async fn stopped(&self) {
        self.cancellation.cancelled().await;
    }
}
