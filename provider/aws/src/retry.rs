//! Jittered, bounded, cancellation-aware retries.
//!
//! The SDK clients keep their standard retry mode (three attempts with the SDK's own backoff
//! for throttling, 5xx, timeouts and I/O errors). On top of that, this module retries:
//!
//! * the eventual-consistency failures the SDK does not know about (IAM `ConcurrentModification`,
//!   `NoSuchEntity` right after a create when the caller asks for it, STS propagation delays);
//! * throttling and server errors that outlast the SDK's attempts, but only a small number of
//!   extra rounds ([`RetryPolicy::max_transient_rounds`]) with a longer backoff, so a throttled
//!   call costs at most a bounded number of requests rather than the product of two blind loops.
//!
//! Everything is bounded by a total time budget and returns promptly on cancellation.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::{AwsError, ErrorClass};

/// Exponential backoff with "equal jitter": the delay for attempt `n` is drawn uniformly from
/// `[d/2, d]` where `d = min(max, initial * multiplier^n)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Base delay before the first retry.
    pub initial: Duration,
    /// Upper bound on any single delay.
    pub max: Duration,
    /// Growth factor per attempt (values below 1 are treated as 1).
    pub multiplier: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
            multiplier: 2.0,
        }
    }
}

impl Backoff {
    /// The un-jittered ceiling for attempt `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let multiplier = if self.multiplier.is_finite() && self.multiplier >= 1.0 {
            self.multiplier
        } else {
            1.0
        };
        let exp = multiplier.powi(attempt.min(64) as i32);
        let secs = self.initial.as_secs_f64() * exp;
        let max = self.max.max(self.initial);
        if !secs.is_finite() || secs >= max.as_secs_f64() {
            max
        } else {
            Duration::from_secs_f64(secs.max(0.0))
        }
    }

    /// A jittered delay for attempt `attempt`, in `[ceiling/2, ceiling]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut fastrand::Rng::new())
    }

    /// Like [`Backoff::delay`] with a caller-supplied generator (seeded in tests).
    pub fn delay_with(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let span = (ceiling - half).as_nanos();
        let extra = if span == 0 { 0 } else { rng.u128(0..=span) };
        half + Duration::from_nanos(u64::try_from(extra).unwrap_or(u64::MAX))
    }
}

/// How an outer retry loop behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Total time allowed for all attempts and delays together.
    pub budget: Duration,
    /// Hard cap on attempts (including the first).
    pub max_attempts: u32,
    /// Extra rounds granted to throttling/5xx/timeouts after the SDK's own attempts failed.
    pub max_transient_rounds: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(10),
                multiplier: 2.0,
            },
            budget: Duration::from_secs(60),
            max_attempts: 12,
            max_transient_rounds: 2,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (useful in tests and for probes).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            max_transient_rounds: 0,
            ..RetryPolicy::default()
        }
    }

    /// This policy with another total budget.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }
}

/// Which failures an outer loop may retry, beyond the always-retried transient ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryOn {
    /// Retry IAM `ConcurrentModification`.
    pub concurrent_modification: bool,
    /// Retry `NoSuchEntity` (only right after the entity was created, when the caller says so).
    pub not_found: bool,
}

impl RetryOn {
    /// Transient failures only.
    pub const TRANSIENT: RetryOn = RetryOn {
        concurrent_modification: false,
        not_found: false,
    };
    /// Transient failures and `ConcurrentModification` (IAM writes).
    pub const IAM_WRITE: RetryOn = RetryOn {
        concurrent_modification: true,
        not_found: false,
    };
}

/// What a classifier says about one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Throttling/5xx/timeout: the SDK already retried, so only a few extra rounds.
    RetryTransient,
    /// Eventual consistency: retried until the budget runs out.
    RetryConsistency,
    /// Give up now.
    Stop,
}

impl RetryOn {
    /// Decides for an [`AwsError`].
    pub fn decide(&self, err: &AwsError) -> Decision {
        match err.class {
            ErrorClass::Throttling | ErrorClass::Transient => Decision::RetryTransient,
            ErrorClass::ConcurrentModification if self.concurrent_modification => {
                Decision::RetryConsistency
            }
            ErrorClass::NotFound if self.not_found => Decision::RetryConsistency,
            _ => Decision::Stop,
        }
    }
}

/// The operation was cancelled through its [`CancellationToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Runs `fut` unless `cancel` fires first.
pub async fn cancellable<F: Future>(
    cancel: &CancellationToken,
    fut: F,
) -> Result<F::Output, Cancelled> {
    if cancel.is_cancelled() {
        return Err(Cancelled);
    }
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Cancelled),
        out = fut => Ok(out),
    }
}

/// Sleeps for `delay` unless `cancel` fires first.
pub async fn sleep_or_cancel(delay: Duration, cancel: &CancellationToken) -> Result<(), Cancelled> {
    cancellable(cancel, tokio::time::sleep(delay)).await
}

/// Why a retried operation finally failed.
#[derive(Debug)]
pub enum RetryError<E> {
    /// Cancelled; `last` is the most recent failure, if any attempt had failed.
    Interrupted { attempts: u32, last: Option<E> },
    /// A failure that was not retried, or the last one once the budget or attempts ran out.
    Failed { attempts: u32, error: E },
}

/// Calls `op` until it succeeds, `decide` says stop, the budget or attempt cap runs out, or
/// `cancel` fires. `op` receives the 1-based attempt number.
pub async fn retry<T, E, Op, Fut, D>(
    policy: &RetryPolicy,
    cancel: &CancellationToken,
    label: &str,
    mut op: Op,
    decide: D,
) -> Result<T, RetryError<E>>
where
    Op: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    D: Fn(&E) -> Decision,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let deadline = started + policy.budget;
    let mut attempts: u32 = 0;
    let mut transient_rounds: u32 = 0;
    let mut last: Option<E> = None;
    loop {
        attempts = attempts.saturating_add(1);
        let result = match cancellable(cancel, op(attempts)).await {
            Ok(r) => r,
            Err(Cancelled) => return Err(RetryError::Interrupted { attempts, last }),
        };
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let decision = decide(&err);
        let allowed = match decision {
            Decision::Stop => false,
            Decision::RetryTransient => {
                transient_rounds += 1;
                transient_rounds <= policy.max_transient_rounds
            }
            Decision::RetryConsistency => true,
        };
        let now = Instant::now();
        if !allowed || attempts >= policy.max_attempts || now >= deadline {
            return Err(RetryError::Failed {
                attempts,
                error: err,
            });
        }
        // Transient failures already went through the SDK's quick retries: start further out.
        let step = match decision {
            Decision::RetryTransient => attempts.saturating_add(1),
            _ => attempts.saturating_sub(1),
        };
        let delay = policy.backoff.delay(step).min(deadline - now);
        tracing::debug!(
            operation = label,
            attempt = attempts,
            delay_ms = delay.as_millis() as u64,
            error = %err,
            "retrying AWS call"
        );
        last = Some(err);
        if sleep_or_cancel(delay, cancel).await.is_err() {
            return Err(RetryError::Interrupted { attempts, last });
        }
    }
}

/// Outcome of [`call_aws`] when it does not succeed.
#[derive(Debug)]
pub(crate) enum CallError {
    Aws(AwsError),
    Interrupted,
}

/// One AWS call with classification and the outer retry loop. `f` builds and sends the request.
pub(crate) async fn call_aws<T, E, F, Fut>(
    policy: &RetryPolicy,
    cancel: &CancellationToken,
    operation: &'static str,
    resource: &str,
    retry_on: RetryOn,
    mut f: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, aws_sdk_sts::error::SdkError<E>>>,
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let result = retry(
        policy,
        cancel,
        operation,
        |_| {
            let fut = f();
            async move {
                fut.await
                    .map_err(|e| AwsError::from_sdk(operation, resource, &e))
            }
        },
        |e: &AwsError| retry_on.decide(e),
    )
    .await;
    match result {
        Ok(v) => Ok(v),
        Err(RetryError::Failed { error, .. }) => Err(CallError::Aws(error)),
        Err(RetryError::Interrupted { .. }) => Err(CallError::Interrupted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_stays_within_bounds() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(8),
            multiplier: 2.0,
        };
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 0..40 {
            let ceiling = b.ceiling(attempt);
            assert!(ceiling <= Duration::from_secs(8));
            for _ in 0..200 {
                let d = b.delay_with(attempt, &mut rng);
                assert!(
                    d >= ceiling / 2,
                    "attempt {attempt}: {d:?} < {:?}",
                    ceiling / 2
                );
                assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
            }
        }
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(1), Duration::from_secs(2));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn backoff_is_jittered() {
        let b = Backoff::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let samples: Vec<Duration> = (0..50).map(|_| b.delay_with(4, &mut rng)).collect();
        let first = samples[0];
        assert!(
            samples.iter().any(|d| *d != first),
            "no jitter: {samples:?}"
        );
    }

    #[test]
    fn backoff_handles_degenerate_settings() {
        let b = Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            multiplier: f64::NAN,
        };
        assert_eq!(b.delay(5), Duration::ZERO);
        let b = Backoff {
            initial: Duration::from_secs(3),
            max: Duration::from_secs(1),
            multiplier: 0.5,
        };
        // max below initial: initial wins; multiplier below 1 is treated as 1.
        assert_eq!(b.ceiling(10), Duration::from_secs(3));
    }

    fn fast_policy() -> RetryPolicy {
        RetryPolicy {
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(5),
                multiplier: 2.0,
            },
            budget: Duration::from_secs(5),
            max_attempts: 10,
            max_transient_rounds: 2,
        }
    }

    #[tokio::test]
    async fn retries_consistency_until_success() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let out: Result<u32, RetryError<String>> = retry(
            &fast_policy(),
            &CancellationToken::new(),
            "test",
            |n| {
                let c = c.clone();
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    if n < 4 {
                        Err("busy".to_string())
                    } else {
                        Ok(n)
                    }
                }
            },
            |_| Decision::RetryConsistency,
        )
        .await;
        assert_eq!(out.unwrap(), 4);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn transient_rounds_are_capped() {
        let out: Result<(), RetryError<String>> = retry(
            &fast_policy(),
            &CancellationToken::new(),
            "test",
            |_| async { Err("throttled".to_string()) },
            |_| Decision::RetryTransient,
        )
        .await;
        match out {
            Err(RetryError::Failed { attempts, .. }) => assert_eq!(attempts, 3),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn stop_is_not_retried() {
        let out: Result<(), RetryError<String>> = retry(
            &fast_policy(),
            &CancellationToken::new(),
            "test",
            |_| async { Err("denied".to_string()) },
            |_| Decision::Stop,
        )
        .await;
        assert!(matches!(out, Err(RetryError::Failed { attempts: 1, .. })));
    }

    #[tokio::test]
    async fn budget_bounds_total_time() {
        let policy = RetryPolicy {
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(50),
                multiplier: 1.0,
            },
            budget: Duration::from_millis(300),
            max_attempts: 1000,
            max_transient_rounds: 0,
        };
        let started = Instant::now();
        let out: Result<(), RetryError<String>> = retry(
            &policy,
            &CancellationToken::new(),
            "test",
            |_| async { Err("propagating".to_string()) },
            |_| Decision::RetryConsistency,
        )
        .await;
        assert!(matches!(out, Err(RetryError::Failed { .. })));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn cancellation_interrupts_backoff() {
        let policy = RetryPolicy {
            backoff: Backoff {
                initial: Duration::from_secs(30),
                max: Duration::from_secs(30),
                multiplier: 1.0,
            },
            budget: Duration::from_secs(600),
            max_attempts: 10,
            max_transient_rounds: 0,
        };
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let out: Result<(), RetryError<String>> = retry(
            &policy,
            &cancel,
            "test",
            |_| async { Err("propagating".to_string()) },
            |_| Decision::RetryConsistency,
        )
        .await;
        match out {
            Err(RetryError::Interrupted { attempts, last }) => {
                assert_eq!(attempts, 1);
                assert_eq!(last.as_deref(), Some("propagating"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn cancelled_token_skips_the_call() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let out: Result<(), RetryError<String>> = retry(
            &fast_policy(),
            &cancel,
            "test",
            |_| async { panic!("must not be called") },
            |_| Decision::Stop,
        )
        .await;
        assert!(matches!(out, Err(RetryError::Interrupted { .. })));
    }
}
