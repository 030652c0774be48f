//! The mio waiter: one `Poll` over every socket, with the machine's deadline as the poll
//! timeout.

use std::io;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use pigeon::{Instant, Machine};
use pigeon_std::{BlockingDriver, Engine, RECV_BUDGET, Wait};

/// How many readiness events one `poll` call may return.
const EVENTS_CAPACITY: usize = 64;

/// Drives one [`Machine`] over mio UDP sockets on the calling thread.
///
/// This is pigeon-std's [`BlockingDriver`] with the [`MioWait`] waiter, so it has the same methods
/// (`new`, `command`, `run_until`, `run_for`, `stats`, ...). Every socket is registered for
/// readability with `Token(i)`, `i` its position in the list given to `new`; the loop sleeps
/// in `Poll::poll` with a timeout that ends at the machine's next deadline, so it wakes only
/// for a datagram or a timer, however many sockets there are.
pub type MioDriver<M> = BlockingDriver<M, MioWait>;

/// Waits in `mio::Poll` for any socket to become readable or the deadline to pass.
///
/// mio's readiness is edge-triggered: a readable socket is read until it would block, at most
/// 64 datagrams per turn so one busy socket cannot starve the others or the timer; a socket
/// with datagrams left is read again before the driver sleeps.
pub struct MioWait {
    poll: Poll,
    poll_events: Events,
    /// `readable[i]`: socket `i` may hold datagrams (mio said so and it has not yet blocked).
    readable: Vec<bool>,
}

impl std::fmt::Debug for MioWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioWait")
            .field("readable", &self.readable)
            .finish_non_exhaustive()
    }
}

impl Wait for MioWait {
    type Socket = UdpSocket;

    fn prepare(sockets: &mut [UdpSocket]) -> io::Result<Self> {
        let poll = Poll::new()?;
        for (index, socket) in sockets.iter_mut().enumerate() {
            poll.registry()
                .register(socket, Token(index), Interest::READABLE)?;
        }
        Ok(Self {
            poll,
            poll_events: Events::with_capacity(EVENTS_CAPACITY),
            // Datagrams may have arrived before registration; edge-triggered readiness would
            // not report them, so every socket starts out as possibly readable.
            readable: vec![true; sockets.len()],
        })
    }

    fn wait<M: Machine>(
        &mut self,
        engine: &mut Engine<M, UdpSocket>,
        wake: Option<Instant>,
    ) -> io::Result<()> {
        if self.read_readable(engine)? || self.readable.contains(&true) {
            // Input arrived, or a budget was spent with datagrams left: look again without
            // sleeping.
            return Ok(());
        }
        // mio rounds a timeout up to the OS's resolution, so the deadline is not missed early
        // by more than the clock's precision; waking early is harmless anyway.
        let timeout = wake.map(|at| engine.clock().until(at));
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
}

impl MioWait {
    /// Reads every socket marked readable until it would block or its budget is spent; true if
    /// any datagram arrived.
    fn read_readable<M: Machine>(&mut self, engine: &mut Engine<M, UdpSocket>) -> io::Result<bool> {
        let mut any = false;
        for (index, flag) in self.readable.iter_mut().enumerate() {
            if !*flag {
                continue;
            }
            let received = engine.receive_from(index, RECV_BUDGET)?;
            any |= received.datagrams > 0;
            if received.emptied {
                *flag = false;
            }
        }
        Ok(any)
    }
}
