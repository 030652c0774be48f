//! The drive loop, shared by every blocking driver: pigeon-std's own and pigeon-mio's differ
//! only in how they [`Wait`], so both are a [`BlockingDriver`].

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::Duration;

use pigeon::{Instant, Machine};

use crate::clock::Clock;
use crate::sockets::{DatagramSocket, DriverStats, Recv, SocketSet};
use crate::wait::{Blocking, Wait};

/// pigeon-std's driver: a [`BlockingDriver`] that waits with [`Blocking`].
pub type Driver<M> = BlockingDriver<M, Blocking>;

/// Drives one [`Machine`] over UDP sockets on the calling thread.
///
/// `W` says how the driver sleeps between inputs. pigeon-std's [`Driver`], with [`Blocking`],
/// works on `std::net::UdpSocket`s: the first socket is put in blocking mode and waited on with
/// a read timeout equal to the time left until the machine's next deadline. Any further sockets
/// are put in non-blocking mode and swept before each wait; while there are several sockets,
/// the wait is cut to at most the poll slice ([`set_poll_slice`](Driver::set_poll_slice), 2 ms
/// by default) so a datagram on another socket waits no longer than that. One socket therefore
/// costs nothing when idle; several cost one wake-up per slice. For many sockets with neither
/// latency nor idle wake-ups, use `pigeon-mio`, whose `MioDriver` is this type with a waiter
/// that sleeps in `mio::Poll`.
pub struct BlockingDriver<M: Machine, W: Wait> {
    engine: Engine<M, W::Socket>,
    waiter: W,
}

/// The part of a [`BlockingDriver`] a [`Wait`] implementation works with: the machine, its
/// clock, its sockets and the events not yet handed out.
pub struct Engine<M: Machine, S> {
    machine: M,
    clock: Clock,
    io: SocketSet<S>,
    events: VecDeque<M::Event>,
}

/// What [`Engine::receive_from`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// Datagrams handed to the machine.
    pub datagrams: usize,
    /// True when the socket reported it had nothing more to read.
    pub emptied: bool,
}

impl<M: Machine, S: DatagramSocket> Engine<M, S> {
    /// The driver's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The sockets.
    pub fn sockets(&self) -> &SocketSet<S> {
        &self.io
    }

    /// Up to `budget` receive attempts on socket `index`, each datagram handed to the machine
    /// and everything it queued drained at once.
    pub fn receive_from(&mut self, index: usize, budget: usize) -> io::Result<Received> {
        let mut received = Received::default();
        for _ in 0..budget {
            match self.io.recv(index)? {
                Recv::Datagram(datagram) => {
                    self.machine.handle_datagram(self.clock.now(), datagram);
                    received.datagrams += 1;
                }
                Recv::Empty => {
                    received.emptied = true;
                    break;
                }
                Recv::Transient => continue,
            }
            self.drain();
        }
        Ok(received)
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
}

impl<M: Machine, W: Wait> BlockingDriver<M, W> {
    /// Takes ownership of `machine` and `sockets` (already bound) and lets `W` prepare them
    /// (the default switches the first socket to blocking mode, the others to non-blocking
    /// mode); the clock's epoch is now.
    pub fn new(machine: M, mut sockets: Vec<W::Socket>) -> io::Result<Self> {
        let waiter = W::prepare(&mut sockets)?;
        Ok(Self {
            engine: Engine {
                machine,
                clock: Clock::new(),
                io: SocketSet::new(sockets)?,
                events: VecDeque::new(),
            },
            waiter,
        })
    }

    /// The machine, for reading its state.
    pub fn machine(&self) -> &M {
        &self.engine.machine
    }

    /// The machine, for changes the driver need not hear about at once: whatever it queues is
    /// sent when [`command`](BlockingDriver::command) or a `run_*` method next drains it. To
    /// send right away, use [`command`](BlockingDriver::command).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.engine.machine
    }

    /// Gives the machine back, with any undelivered events dropped.
    pub fn into_machine(self) -> M {
        self.engine.machine
    }

    /// The driver's clock.
    pub fn clock(&self) -> &Clock {
        &self.engine.clock
    }

    /// The current time on the machine's clock.
    pub fn now(&self) -> Instant {
        self.engine.clock.now()
    }

    /// The local addresses of the driver's sockets, in the order they were given.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.engine.io.local_addrs().to_vec()
    }

    /// Socket counters.
    pub fn stats(&self) -> DriverStats {
        self.engine.io.stats()
    }

    /// The waiter, for settings of its own.
    pub fn waiter_mut(&mut self) -> &mut W {
        &mut self.waiter
    }

    /// Runs `f` on the machine with the current time (a command such as starting a
    /// transaction), then sends what it queued. Its events wait for the next `run_*` call.
    pub fn command<R>(&mut self, f: impl FnOnce(&mut M, Instant) -> R) -> R {
        let result = f(&mut self.engine.machine, self.engine.clock.now());
        self.engine.drain();
        result
    }

    /// Drives the machine, handing each event to `f`, until `f` breaks; returns its value.
    ///
    /// Errors are those that make a socket (or the waiter) unusable; per-datagram errors are
    /// counted in [`stats`](BlockingDriver::stats) and the loop goes on. Events left over when `f`
    /// breaks are kept for the next call. A machine with no socket and no deadline gives an
    /// error, since nothing could ever happen.
    pub fn run_until<T>(&mut self, mut f: impl FnMut(M::Event) -> ControlFlow<T>) -> io::Result<T> {
        loop {
            if let Some(value) = self.drive(None, &mut f)? {
                return Ok(value);
            }
        }
    }

    /// Like [`run_until`](BlockingDriver::run_until), but gives up after `duration` and returns
    /// `None`.
    pub fn run_for<T>(
        &mut self,
        duration: Duration,
        mut f: impl FnMut(M::Event) -> ControlFlow<T>,
    ) -> io::Result<Option<T>> {
        let limit = self.engine.clock.now() + duration;
        self.drive(Some(limit), &mut f)
    }

    /// The loop behind `run_*`: returns `Some` when `f` breaks, `None` once `limit` passes.
    fn drive<T>(
        &mut self,
        limit: Option<Instant>,
        f: &mut impl FnMut(M::Event) -> ControlFlow<T>,
    ) -> io::Result<Option<T>> {
        let engine = &mut self.engine;
        loop {
            // The machine may have been changed through machine_mut since the last drain.
            engine.drain();
            while let Some(event) = engine.events.pop_front() {
                if let ControlFlow::Break(value) = f(event) {
                    return Ok(Some(value));
                }
            }
            let now = engine.clock.now();
            if let Some(deadline) = engine.machine.poll_timeout() {
                if deadline <= now {
                    engine.machine.handle_timeout(now);
                    continue;
                }
            }
            if limit.is_some_and(|limit| limit <= now) {
                return Ok(None);
            }
            let wake = match (engine.machine.poll_timeout(), limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if wake.is_none() && engine.io.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no socket and no deadline: the driver would wait forever",
                ));
            }
            self.waiter.wait(engine, wake)?;
        }
    }
}

impl<M: Machine> Driver<M> {
    /// Caps each blocking wait while the driver has more than one socket (at least 1 µs).
    pub fn set_poll_slice(&mut self, slice: Duration) {
        self.waiter.set_poll_slice(slice);
    }
}
