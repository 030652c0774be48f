//! The blocking drive loop.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::time::Duration;

use pigeon::{Instant, Machine};

use crate::clock::Clock;
use crate::sockets::{DriverStats, Recv, SocketSet};

/// How many datagrams one socket may deliver before the others (and the timer) get a turn.
const RECV_BUDGET: usize = 64;

/// The default longest blocking wait on the first socket while others might have input.
const DEFAULT_POLL_SLICE: Duration = Duration::from_millis(2);

/// Drives one [`Machine`] over blocking `std::net::UdpSocket`s on the calling thread.
///
/// How it waits: the first socket is put in blocking mode and waited on with a read timeout
/// equal to the time left until the machine's next deadline. Any further sockets are put in
/// non-blocking mode and swept before each wait; while there are several sockets, the wait is
/// cut to at most the poll slice ([`set_poll_slice`](Driver::set_poll_slice), 2 ms by default)
/// so a datagram on another socket waits no longer than that. One socket therefore costs
/// nothing when idle; several cost one wake-up per slice. For many sockets with neither latency
/// nor idle wake-ups, use `pigeon-mio`, which waits on all of them at once.
pub struct Driver<M: Machine> {
    machine: M,
    clock: Clock,
    io: SocketSet,
    events: VecDeque<M::Event>,
    poll_slice: Duration,
}

impl<M: Machine> Driver<M> {
    /// Takes ownership of `machine` and `sockets` (already bound); the clock's epoch is now.
    ///
    /// The first socket is switched to blocking mode, the others to non-blocking mode.
    pub fn new(machine: M, sockets: Vec<UdpSocket>) -> io::Result<Self> {
        let io = SocketSet::new(sockets)?;
        for index in 0..io.len() {
            io.socket(index).set_nonblocking(index > 0)?;
        }
        Ok(Self {
            machine,
            clock: Clock::new(),
            io,
            events: VecDeque::new(),
            poll_slice: DEFAULT_POLL_SLICE,
        })
    }

    /// Caps each blocking wait while the driver has more than one socket (at least 1 µs).
    pub fn set_poll_slice(&mut self, slice: Duration) {
        self.poll_slice = slice.max(Duration::from_micros(1));
    }

    /// The machine, for reading its state.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The machine, for changes the driver need not hear about at once: whatever it queues is
    /// sent when [`command`](Driver::command) or a `run_*` method next drains it. To send right
    /// away, use [`command`](Driver::command).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Gives the machine back, with any undelivered events dropped.
    pub fn into_machine(self) -> M {
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

    /// The local addresses of the driver's sockets, in the order they were given.
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
    /// Errors are those that make a socket unusable; per-datagram errors are counted in
    /// [`stats`](Driver::stats) and the loop goes on. Events left over when `f` breaks are kept
    /// for the next call. A machine with no socket and no deadline gives an error, since
    /// nothing could ever happen.
    pub fn run_until<T>(&mut self, mut f: impl FnMut(M::Event) -> ControlFlow<T>) -> io::Result<T> {
        loop {
            if let Some(value) = self.drive(None, &mut f)? {
                return Ok(value);
            }
        }
    }

    /// Like [`run_until`](Driver::run_until), but gives up after `duration` and returns `None`.
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
            let wake = match (self.machine.poll_timeout(), limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.wait(wake)?;
        }
    }

    /// Waits for input until `wake` (or forever), handing every datagram read to the machine.
    fn wait(&mut self, wake: Option<Instant>) -> io::Result<()> {
        if self.sweep_nonblocking()? {
            return Ok(());
        }
        let remaining = wake.map(|at| self.clock.until(at));
        if remaining == Some(Duration::ZERO) {
            return Ok(());
        }
        if self.io.len() == 0 {
            return match remaining {
                Some(d) => {
                    std::thread::sleep(d);
                    Ok(())
                }
                None => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no socket and no deadline: the driver would wait forever",
                )),
            };
        }
        let timeout = if self.io.len() > 1 {
            Some(remaining.map_or(self.poll_slice, |r| r.min(self.poll_slice)))
        } else {
            remaining
        };
        self.io.socket(0).set_read_timeout(timeout)?;
        // One datagram at most: the first socket stays blocking, so a second read could stall
        // past the deadline. Anything else queued on it is read at once by the next wait.
        self.receive_from(0, 1)?;
        Ok(())
    }

    /// Reads every non-blocking socket until it is empty or its budget is spent; true if
    /// anything arrived.
    fn sweep_nonblocking(&mut self) -> io::Result<bool> {
        let mut any = false;
        for index in 1..self.io.len() {
            any |= self.receive_from(index, RECV_BUDGET)? > 0;
        }
        Ok(any)
    }

    /// Up to `budget` receive attempts on socket `index`, each datagram handed to the machine
    /// and drained; returns how many datagrams arrived.
    fn receive_from(&mut self, index: usize, budget: usize) -> io::Result<usize> {
        let mut count = 0;
        for _ in 0..budget {
            match self.io.recv(index)? {
                Recv::Datagram(datagram) => {
                    self.machine.handle_datagram(self.clock.now(), datagram);
                    count += 1;
                }
                Recv::Empty => break,
                Recv::Transient => continue,
            }
            self.drain();
        }
        Ok(count)
    }
}
