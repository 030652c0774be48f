//! Hosting any [`Machine`] as a node: type erasure for the event loop, typed access for tests.

use core::any::Any;
use core::fmt::Debug;
use std::collections::VecDeque;

use pigeon::{Datagram, Instant, Machine, Transmit};

use crate::NodeId;
use crate::trace::Trace;

/// The object-safe face of a hosted machine.
pub(crate) trait Hosted {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// Moves every pending event into the node's queue and the trace; returns how many.
    fn drain_events(&mut self, now: Instant, node: NodeId, trace: &mut Trace) -> u64;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A machine and the events it produced that the test has not taken yet.
pub(crate) struct Host<M: Machine> {
    pub(crate) machine: M,
    pub(crate) events: VecDeque<M::Event>,
    pub(crate) capacity: usize,
    /// Events dropped because the queue was full (oldest first).
    pub(crate) overflow: u64,
}

impl<M> Hosted for Host<M>
where
    M: Machine + 'static,
    M::Event: Debug + 'static,
{
    #[inline]
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.machine.handle_datagram(now, datagram);
    }

    #[inline]
    fn handle_timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
    }

    #[inline]
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.machine.poll_transmit()
    }

    #[inline]
    fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    #[inline]
    fn drain_events(&mut self, now: Instant, node: NodeId, trace: &mut Trace) -> u64 {
        let mut n = 0;
        while let Some(event) = self.machine.poll_event() {
            trace.event(now, node, &event);
            if self.events.len() >= self.capacity {
                self.events.pop_front();
                self.overflow += 1;
            }
            if self.capacity > 0 {
                self.events.push_back(event);
            }
            n += 1;
        }
        n
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
