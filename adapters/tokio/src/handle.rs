//! What the application holds while the driver task runs: a [`Handle`] for commands and an
//! [`Events`] stream.

use std::fmt;

use pigeon::{Instant, Machine};
use tokio::sync::{mpsc, oneshot};

use pigeon_std::DriverStats;

/// A command boxed for the driver task.
pub(crate) type Job<M> = Box<dyn FnOnce(&mut M, Instant) + Send>;

/// What a [`Handle`] asks of the driver task.
pub(crate) enum Request<M> {
    Command(Job<M>),
    Stats(oneshot::Sender<DriverStats>),
    Shutdown,
}

/// The driver task has stopped (shut down, or failed: its `JoinHandle` says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pigeon driver task has stopped")
    }
}

impl std::error::Error for Closed {}

/// Sends commands to a machine running in its driver task. Cheap to clone.
pub struct Handle<M> {
    pub(crate) requests: mpsc::Sender<Request<M>>,
}

impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        Self {
            requests: self.requests.clone(),
        }
    }
}

impl<M> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.requests.is_closed())
            .finish()
    }
}

impl<M: Machine> Handle<M> {
    /// Runs `f` on the machine inside the driver task with the current time, sends what it
    /// queued, and returns what `f` returned. Its events arrive through [`Events`].
    pub async fn command<R, F>(&self, f: F) -> Result<R, Closed>
    where
        F: FnOnce(&mut M, Instant) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Job<M> = Box::new(move |machine, now| {
            // The caller may have stopped waiting; the command ran all the same.
            let _ = reply.send(f(machine, now));
        });
        self.requests
            .send(Request::Command(job))
            .await
            .map_err(|_| Closed)?;
        result.await.map_err(|_| Closed)
    }

    /// The driver's socket counters.
    pub async fn stats(&self) -> Result<DriverStats, Closed> {
        let (reply, result) = oneshot::channel();
        self.requests
            .send(Request::Stats(reply))
            .await
            .map_err(|_| Closed)?;
        result.await.map_err(|_| Closed)
    }

    /// Asks the driver task to stop; its `JoinHandle` then yields the machine. Requests sent
    /// before this one are served first.
    pub async fn shutdown(&self) -> Result<(), Closed> {
        self.requests
            .send(Request::Shutdown)
            .await
            .map_err(|_| Closed)
    }

    /// Whether the driver task has stopped.
    pub fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }
}

/// The machine's events, in the order it produced them.
///
/// The queue has no bound, so the task never stalls on a slow reader: read it, or drop it to
/// discard events.
pub struct Events<E> {
    pub(crate) events: mpsc::UnboundedReceiver<E>,
}

impl<E> fmt::Debug for Events<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("queued", &self.events.len())
            .finish()
    }
}

impl<E> Events<E> {
    /// The next event; `None` once the driver task has stopped and every event was read.
    pub async fn next_event(&mut self) -> Option<E> {
        self.events.recv().await
    }

    /// The next event if one is queued, without waiting.
    pub fn try_next_event(&mut self) -> Option<E> {
        self.events.try_recv().ok()
    }
}
