//! Admission of the API's CPU-heavy calls (issuing, revising, supplements, handed-over files):
//! at most `workers` run at once and at most `queue` wait for a turn; a request beyond that is
//! refused at once (503 `busy`) instead of piling up blocking threads, each holding a Typst
//! compile's memory (`[server] issue_workers`, `issue_queue`; docs/serve.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    workers: usize,
    queue: usize,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
}

/// One of `counter`, given back when dropped.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(counter: &Arc<AtomicUsize>) -> (Counted, usize) {
        let before = counter.fetch_add(1, Ordering::SeqCst);
        (Counted(Arc::clone(counter)), before)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A turn to run: hold it (move it into the blocking task) until the work is done.
pub(crate) struct Turn {
    _permit: OwnedSemaphorePermit,
    _running: Counted,
}

/// The line is full.
#[derive(Debug)]
pub(crate) struct Busy {
    pub(crate) workers: usize,
    pub(crate) queue: usize,
}

impl Admission {
    /// `workers` 0 means [`crate::service::default_issue_workers`] (two per CPU core).
    pub(crate) fn new(workers: usize, queue: usize) -> Admission {
        let workers = if workers == 0 {
            crate::service::default_issue_workers()
        } else {
            workers
        };
        Admission {
            slots: Arc::new(Semaphore::new(workers)),
            workers,
            queue,
            waiting: Arc::default(),
            running: Arc::default(),
        }
    }

    /// A turn now, or after the calls ahead in the line; [`Busy`] when `queue` calls already
    /// wait. Dropping the future leaves the line.
    pub(crate) async fn turn(&self) -> Result<Turn, Busy> {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let (waiting, ahead) = Counted::new(&self.waiting);
                if ahead >= self.queue {
                    return Err(Busy {
                        workers: self.workers,
                        queue: self.queue,
                    });
                }
                let permit = Arc::clone(&self.slots)
                    .acquire_owned()
                    .await
                    .map_err(|_| Busy {
                        workers: self.workers,
                        queue: self.queue,
                    })?;
                drop(waiting);
                permit
            }
        };
        Ok(Turn {
            _permit: permit,
            _running: Counted::new(&self.running).0,
        })
    }

    /// (running, waiting, workers) now, for /metrics.
    pub(crate) fn gauges(&self) -> (usize, usize, usize) {
        (
            self.running.load(Ordering::SeqCst),
            self.waiting.load(Ordering::SeqCst),
            self.workers,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_workers_lets_queue_wait_and_refuses_the_next() {
        let a = Admission::new(1, 1);
        let first = a.turn().await.expect("a free slot");
        assert_eq!(a.gauges(), (1, 0, 1));
        // The second waits (its future stays pending while the first runs)…
        let mut second = Box::pin(a.turn());
        assert!(futures_poll_once(&mut second).await.is_none());
        assert_eq!(a.gauges(), (1, 1, 1));
        // …and the third finds the line full.
        let third = a.turn().await;
        assert!(matches!(
            third,
            Err(Busy {
                workers: 1,
                queue: 1
            })
        ));
        assert_eq!(a.gauges(), (1, 1, 1), "a refusal leaves no trace");
        // When the first is done, the second runs.
        drop(first);
        let second = second.await.expect("its turn");
        assert_eq!(a.gauges(), (1, 0, 1));
        drop(second);
        assert_eq!(a.gauges(), (0, 0, 1));
    }

    #[tokio::test]
    async fn leaving_the_line_gives_the_place_back() {
        let a = Admission::new(1, 1);
        let _first = a.turn().await.expect("a free slot");
        {
            let mut waiting = Box::pin(a.turn());
            assert!(futures_poll_once(&mut waiting).await.is_none());
            assert_eq!(a.gauges().1, 1);
        }
        assert_eq!(a.gauges().1, 0, "a dropped request no longer waits");
        let mut again = Box::pin(a.turn());
        assert!(futures_poll_once(&mut again).await.is_none(), "room again");
    }

    #[test]
    fn zero_workers_means_two_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(Admission::new(0, 4).gauges(), (0, 0, 2 * cores));
    }

    /// Polls `f` once: `Some` if it completed.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut *f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
