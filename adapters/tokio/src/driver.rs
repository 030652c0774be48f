//! The driver task: one loop that selects over every socket, the machine's next deadline and
//! the command channel.

use std::io;

use pigeon::Machine;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::handle::{Events, Handle, Request};
use crate::sockets::{Received, SocketSet};

/// How many requests may wait for the task before [`Handle`] calls wait for room.
const REQUEST_QUEUE: usize = 64;

/// What [`spawn`] returns: the command [`Handle`], the [`Events`] stream, and the task's
/// `JoinHandle`, which yields the machine back (or the error that stopped the task).
pub type Spawned<M> = (
    Handle<M>,
    Events<<M as Machine>::Event>,
    JoinHandle<io::Result<M>>,
);

/// Spawns a task on the current tokio runtime that drives `machine` over `sockets` (already
/// bound); the clock's epoch is now.
///
/// Returns a [`Handle`] for commands, the [`Events`] stream, and the task's `JoinHandle`,
/// which yields the machine after [`Handle::shutdown`], or the error of a socket that became
/// unusable. Per-datagram errors are only counted ([`Handle::stats`]). The task also stops by
/// itself once every `Handle` and the `Events` are dropped, since nobody could reach it.
///
/// Panics if called outside a tokio runtime, as `tokio::spawn` does.
pub fn spawn<M>(machine: M, sockets: Vec<UdpSocket>) -> io::Result<Spawned<M>>
where
    M: Machine + Send + 'static,
    M::Event: Send + 'static,
{
    let io = SocketSet::new(sockets)?;
    let (requests_tx, requests) = mpsc::channel(REQUEST_QUEUE);
    let (events_tx, events) = mpsc::unbounded_channel();
    let task = Task {
        machine,
        clock: Clock::new(),
        io,
        requests,
        events: events_tx,
    };
    let join = tokio::spawn(task.run());
    Ok((
        Handle {
            requests: requests_tx,
        },
        Events { events },
        join,
    ))
}

struct Task<M: Machine> {
    machine: M,
    clock: Clock,
    io: SocketSet,
    requests: mpsc::Receiver<Request<M>>,
    events: mpsc::UnboundedSender<M::Event>,
}

/// What woke the task.
enum Wake<M> {
    Request(Option<Request<M>>),
    Datagram(io::Result<Received>),
    Deadline,
    Orphaned,
}

impl<M: Machine> Task<M> {
    async fn run(mut self) -> io::Result<M> {
        let mut handles_alive = true;
        loop {
            self.drain().await;
            let now = self.clock.now();
            if let Some(deadline) = self.machine.poll_timeout() {
                if deadline <= now {
                    self.machine.handle_timeout(now);
                    continue;
                }
            }
            // A deadline beyond what tokio can represent is as good as none.
            let sleep_until = self
                .machine
                .poll_timeout()
                .and_then(|at| self.clock.os_instant(at));
            let wake = tokio::select! {
                request = self.requests.recv(), if handles_alive => Wake::Request(request),
                received = self.io.recv() => Wake::Datagram(received),
                () = sleep(sleep_until), if sleep_until.is_some() => Wake::Deadline,
                () = self.events.closed(), if !handles_alive => Wake::Orphaned,
            };
            match wake {
                Wake::Request(Some(Request::Command(job))) => {
                    job(&mut self.machine, self.clock.now())
                }
                Wake::Request(Some(Request::Stats(reply))) => {
                    let _ = reply.send(self.io.stats);
                }
                Wake::Request(Some(Request::Shutdown)) => return Ok(self.machine),
                Wake::Request(None) => {
                    handles_alive = false;
                    if self.events.is_closed() {
                        return Ok(self.machine);
                    }
                }
                Wake::Datagram(received) => {
                    let datagram = self.io.datagram(received?);
                    self.machine.handle_datagram(self.clock.now(), datagram);
                }
                // The loop's top hands the machine its timeout.
                Wake::Deadline => {}
                Wake::Orphaned => return Ok(self.machine),
            }
        }
    }

    /// DESIGN.md §2: after every mutation drain transmits and events, then re-read the deadline.
    async fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.machine.poll_transmit() {
                self.io.send(&transmit).await;
                progressed = true;
            }
            while let Some(event) = self.machine.poll_event() {
                // Nobody listening is allowed: the application dropped its Events.
                let _ = self.events.send(event);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
    }
}

/// Sleeps until `at`; never completes for `None` (that select branch is disabled anyway).
async fn sleep(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
