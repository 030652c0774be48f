//! The mio drive loop: one `Poll` over every socket, with the machine's deadline as the poll
//! timeout.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::Duration;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use pigeon::{Instant, Machine};

use crate::clock::Clock;
use crate::sockets::{DriverStats, Recv, SocketSet};

/// How many datagrams one socket may deliver before the others (and the timer) get a turn.
const RECV_BUDGET: usize = 64;

/// How many readiness events one `poll` call may return.
const EVENTS_CAPACITY: usize = 64;

/// Drives one [`Machine`] over mio UDP sockets on the calling thread.
///
/// Every socket is registered for readability with `Token(i)`, `i` its position in the list
/// given to [`new`](MioDriver::new); the loop sleeps in `Poll::poll` with a timeout that ends
/// at the machine's next deadline, so it wakes only for a datagram or a timer, however many
/// sockets there are. mio's readiness is edge-triggered: a readable socket is read until it
/// would block, at most 64 datagrams per turn so one busy socket cannot starve the others or
/// the timer; a socket with datagrams left is read again before the driver sleeps.
pub struct MioDriver<M: Machine> {
    machine: M,
    clock: Clock,
    poll: Poll,
    poll_events: Events,
    io: SocketSet,
    /// `readable[i]`: socket `i` may hold datagrams (mio said so and it has not yet blocked).
    readable: Vec<bool>,
    events: VecDeque<M::Event>,
}

impl<M: Machine> MioDriver<M> {
    /// Takes ownership of `machine` and `sockets` (already bound) and registers the sockets
    /// with a new `Poll`; the clock's epoch is now.
    pub fn new(machine: M, mut sockets: Vec<UdpSocket>) -> io::Result<Self> {
        let poll = Poll::new()?;
        for (index, socket) in sockets.iter_mut().enumerate() {
            poll.registry()
                .register(socket, Token(index), Interest::READABLE)?;
        }
        let io = SocketSet::new(sockets)?;
        // Datagrams may have arrived before registration; edge-triggered readiness would not
        // report them, so every socket starts out as possibly readable.
        let readable = vec![true; io.len()];
        Ok(Self {
            machine,
            clock: Clock::new(),
            poll,
            poll_events: Events::with_capacity(EVENTS_CAPACITY),
            io,
            readable,
            events: VecDeque::new(),
        })
    }

    /// The machine, for reading its state.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The machine, for changes the driver need not hear about at once: whatever it queues is
    /// sent when [`command`](MioDriver::command) or a `run_*` method next drains it.
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Deregisters the sockets and gives the machine back, with undelivered events dropped.
    pub fn into_machine(mut self) -> M {
        for index in 0..self.io.len() {
            // Dropping the Poll right after frees the registrations anyway; this is tidiness.
            let _ = self.poll.registry().deregister(self.io.socket_mut(index));
        }
        self.machine
    }

    /// The driver's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time on the machine's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The local addresses of the driver's sockets; the socket at position `i` has `Token(i)`.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.io.local_addrs().to_vec()
    }

    /// Socket counters.
    pub fn stats(&self) -> DriverStats {
        self.io.stats
    }

    /// Runs `f` on the machine with the current time (a command such as starting a
    /// transaction), then sends what it queued. Its events wait for the next `run_*` call.
    pub fn command<R>(&mut self, f: impl FnOnce(&mut M, Instant) -> R) -> R {
        let result = f(&mut self.machine, self.clock.now());
        self.drain();
        result
    }

    /// Drives the machine, handing each event to `f`, until `f` breaks; returns its value.
    ///
    /// Errors are those of `Poll::poll` and of sockets that became unusable; per-datagram
    /// errors are counted in [`stats`](MioDriver::stats) and the loop goes on. Events left over
    /// when `f` breaks are kept for the next call. A machine with no socket and no deadline
    /// gives an error, since nothing could ever happen.
    pub fn run_until<T>(&mut self, mut f: impl FnMut(M::Event) -> ControlFlow<T>) -> io::Result<T> {
        loop {
            if let Some(value) = self.drive(None, &mut f)? {
                return Ok(value);
            }
        }
    }

    /// Like [`run_until`](MioDriver::run_until), but gives up after `duration` and returns
    /// `None`.
    pub fn run_for<T>(
        &mut self,
        duration: Duration,
        mut f: impl FnMut(M::Event) -> ControlFlow<T>,
    ) -> io::Result<Option<T>> {
        let limit = self.clock.now() + duration;
        self.drive(Some(limit), &mut f)
    }

    /// DESIGN.md §2: after every mutation drain transmits and events, then re-read the deadline.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.machine.poll_transmit() {
                self.io.send(&transmit);
                progressed = true;
            }
            while let Some(event) = self.machine.poll_event() {
                self.events.push_back(event);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
    }

    /// The loop behind `run_*`: returns `Some` when `f` breaks, `None` once `limit` passes.
    fn drive<T>(
        &mut self,
        limit: Option<Instant>,
        f: &mut impl FnMut(M::Event) -> ControlFlow<T>,
    ) -> io::Result<Option<T>> {
        loop {
            // The machine may have been changed through machine_mut since the last drain.
            self.drain();
            while let Some(event) = self.events.pop_front() {
                if let ControlFlow::Break(value) = f(event) {
                    return Ok(Some(value));
                }
            }
            let now = self.clock.now();
            if let Some(deadline) = self.machine.poll_timeout() {
                if deadline <= now {
                    self.machine.handle_timeout(now);
                    continue;
                }
            }
            if limit.is_some_and(|limit| limit <= now) {
                return Ok(None);
            }
            if self.read_readable()? {
                continue;
            }
            let wake = match (self.machine.poll_timeout(), limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.wait(wake)?;
        }
    }

    /// Sleeps in `Poll::poll` until a socket is readable or `wake` comes.
    fn wait(&mut self, wake: Option<Instant>) -> io::Result<()> {
        if self.readable.contains(&true) {
            // Budget spent with datagrams left: look again without sleeping.
            return Ok(());
        }
        if wake.is_none() && self.io.len() == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no socket and no deadline: the driver would wait forever",
            ));
        }
        // mio rounds a timeout up to the OS's resolution, so the deadline is not missed early
        // by more than the clock's precision; waking early is harmless anyway.
        let timeout = wake.map(|at| self.clock.until(at));
        match self.poll.poll(&mut self.poll_events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in &self.poll_events {
            if let Some(flag) = self.readable.get_mut(event.token().0) {
                *flag = true;
            }
        }
        Ok(())
    }

    /// Reads every socket marked readable until it would block or its budget is spent; true if
    /// any datagram arrived.
    fn read_readable(&mut self) -> io::Result<bool> {
        let mut any = false;
        for index in 0..self.io.len() {
            if !self.readable[index] {
                continue;
            }
            for _ in 0..RECV_BUDGET {
                match self.io.recv(index)? {
                    Recv::Datagram(datagram) => {
                        self.machine.handle_datagram(self.clock.now(), datagram);
                        any = true;
                    }
                    Recv::Empty => {
                        self.readable[index] = false;
                        break;
                    }
                    Recv::Transient => continue,
                }
                self.drain();
            }
        }
        Ok(any)
    }
}
