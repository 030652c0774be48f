//! How a [`Driver`](crate::BlockingDriver) sleeps until the next datagram or deadline.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use pigeon::{Instant, Machine};

use crate::driver::Engine;
use crate::sockets::DatagramSocket;

/// How many datagrams one socket may deliver before the others (and the timer) get a turn.
pub const RECV_BUDGET: usize = 64;

/// The default longest blocking wait on the first socket while others might have input.
const DEFAULT_POLL_SLICE: Duration = Duration::from_millis(2);

/// A way for a [`Driver`](crate::BlockingDriver) to wait for input.
///
/// The driver calls [`wait`](Wait::wait) whenever the machine has nothing more to do right
/// now. An implementation reads whatever datagrams are ready through
/// [`Engine::receive_from`], or sleeps until one arrives or until `wake`, and returns; the
/// driver then hands the machine its timeouts and goes round again. Returning early is always
/// allowed.
pub trait Wait: Sized {
    /// The socket type the driver owns.
    type Socket: DatagramSocket;

    /// Prepares the sockets (blocking mode, registration with an event loop, ...) before the
    /// driver takes them.
    fn prepare(sockets: &mut [Self::Socket]) -> io::Result<Self>;

    /// Waits for input until `wake`, or with no limit when `wake` is `None` (then there is at
    /// least one socket).
    fn wait<M: Machine>(
        &mut self,
        engine: &mut Engine<M, Self::Socket>,
        wake: Option<Instant>,
    ) -> io::Result<()>;
}

/// Waits in a blocking read with a timeout on the first `std::net::UdpSocket`, sweeping the
/// others (non-blocking) before each wait; see [`Driver`](crate::Driver).
#[derive(Clone, Copy, Debug)]
pub struct Blocking {
    poll_slice: Duration,
}

impl Blocking {
    /// Caps each blocking wait while there is more than one socket (at least 1 µs).
    pub fn set_poll_slice(&mut self, slice: Duration) {
        self.poll_slice = slice.max(Duration::from_micros(1));
    }
}

impl Wait for Blocking {
    type Socket = UdpSocket;

    fn prepare(sockets: &mut [UdpSocket]) -> io::Result<Self> {
        for (index, socket) in sockets.iter().enumerate() {
            socket.set_nonblocking(index > 0)?;
        }
        Ok(Self {
            poll_slice: DEFAULT_POLL_SLICE,
        })
    }

    fn wait<M: Machine>(
        &mut self,
        engine: &mut Engine<M, UdpSocket>,
        wake: Option<Instant>,
    ) -> io::Result<()> {
        let count = engine.sockets().len();
        let mut any = false;
        for index in 1..count {
            any |= engine.receive_from(index, RECV_BUDGET)?.datagrams > 0;
        }
        if any {
            return Ok(());
        }
        let remaining = wake.map(|at| engine.clock().until(at));
        if remaining == Some(Duration::ZERO) {
            return Ok(());
        }
        let Some(first) = engine.sockets().sockets().first() else {
            // The driver only waits without a deadline when it has a socket.
            std::thread::sleep(remaining.unwrap_or(self.poll_slice));
            return Ok(());
        };
        let timeout = if count > 1 {
            Some(remaining.map_or(self.poll_slice, |r| r.min(self.poll_slice)))
        } else {
            remaining
        };
        first.set_read_timeout(timeout)?;
        // One datagram at most: the first socket stays blocking, so a second read could stall
        // past the deadline. Anything else queued on it is read at once by the next wait.
        engine.receive_from(0, 1)?;
        Ok(())
    }
}
