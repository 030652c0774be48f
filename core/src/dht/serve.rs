//! The node's answers to queries, and what it does with responses, errors and timeouts.

use core::net::SocketAddr;

use crate::dht::id::NodeId;
use crate::dht::krpc::{
    Body, ERROR_METHOD_UNKNOWN, ERROR_PROTOCOL, ErrorBody, Message, Method, NodeInfo, Query,
    Response,
};
use crate::dht::lookup::Status;
use crate::dht::node::{DhtEvent, DhtNode, Pending, Purpose};
use crate::dht::routing::RoutingTable;
use crate::time::Instant;

impl DhtNode {
    pub(crate) fn on_query(
        &mut self,
        now: Instant,
        from: SocketAddr,
        message: &Message<'_>,
        query: &Query<'_>,
        sibling: Option<&RoutingTable>,
    ) {
        if self.config.read_only {
            // BEP 43: a read-only node does not answer queries.
            return;
        }
        if !self.limiter.allow(now, from.ip()) {
            self.stats.rate_limited += 1;
            tracing::trace!(%from, "dht: query over the rate limit dropped");
            return;
        }
        self.stats.queries += 1;
        // BEP 43: nodes that say `ro` are not added to routing tables.
        if !message.read_only {
            self.offer(
                now,
                NodeInfo {
                    id: query.id,
                    addr: from,
                },
                None,
                true,
            );
        }
        let own = self.id();
        // Issued for get_peers; computed up front so the response can borrow it.
        let token = self.tokens.issue(from.ip());
        let body = match &query.method {
            Method::Ping => Body::Response(Response {
                id: own,
                ..Response::default()
            }),
            Method::FindNode { target } => {
                Body::Response(self.nodes_for(now, target, from, query, sibling))
            }
            Method::GetPeers { info_hash } => {
                let seed = self.rng.next_u32();
                let values = self.store.get(now, info_hash, seed);
                let mut response = if values.is_empty() {
                    self.nodes_for(now, info_hash, from, query, sibling)
                } else {
                    Response {
                        id: own,
                        values,
                        ..Response::default()
                    }
                };
                response.token = Some(&token);
                Body::Response(response)
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                token,
                implied_port,
            } => {
                if !self.tokens.check(from.ip(), token) {
                    self.stats.bad_tokens += 1;
                    Body::Error(ErrorBody {
                        code: ERROR_PROTOCOL,
                        message: b"bad token",
                    })
                } else {
                    // BEP 5: with implied_port the UDP source port is the peer's port.
                    let port = if *implied_port { from.port() } else { *port };
                    let peer = SocketAddr::new(from.ip(), port);
                    if self.store.announce(now, *info_hash, peer) {
                        Body::Response(Response {
                            id: own,
                            ..Response::default()
                        })
                    } else {
                        Body::Error(ErrorBody {
                            code: 202,
                            message: b"storage full",
                        })
                    }
                }
            }
            Method::Get { target, seq } => {
                let nodes = self.nodes_for(now, target, from, query, sibling);
                self.answer_get(now, nodes, target, *seq, &token)
            }
            Method::Put(put) => self.answer_put(now, from, put),
            Method::Unknown(_) => Body::Error(ErrorBody {
                code: ERROR_METHOD_UNKNOWN,
                message: b"Method Unknown",
            }),
        };
        self.reply(from, message.transaction_id, body);
    }

    /// The closest nodes to `target` in the families the querier wants (BEP 32: by default
    /// the family of the socket the query came in on). A dual-stack node passes the other
    /// family's table as `sibling`, so that one answer can carry both `nodes` and `nodes6`.
    pub(crate) fn nodes_for(
        &self,
        now: Instant,
        target: &NodeId,
        from: SocketAddr,
        query: &Query<'_>,
        sibling: Option<&RoutingTable>,
    ) -> Response<'static> {
        let k = self.config.routing.k;
        let (v4, v6) = match query.want {
            Some(want) if want.v4 || want.v6 => (want.v4, want.v6),
            _ => (from.is_ipv4(), from.is_ipv6()),
        };
        let mut nodes = Vec::new();
        let mut nodes6 = Vec::new();
        let other = sibling.map_or_else(Vec::new, |t| t.closest(now, target, k * 4));
        for info in self
            .table
            .closest(now, target, k * 4)
            .into_iter()
            .chain(other)
        {
            if info.addr.is_ipv4() && v4 && nodes.len() < k {
                nodes.push(info);
            } else if info.addr.is_ipv6() && v6 && nodes6.len() < k {
                nodes6.push(info);
            }
        }
        Response {
            id: self.id(),
            nodes,
            nodes6,
            ..Response::default()
        }
    }

    /// Sends an answer; BEP 42 asks responders to tell the querier its address in `ip`.
    fn reply(&mut self, to: SocketAddr, tid: &[u8], body: Body<'_>) {
        let message = Message {
            transaction_id: tid,
            body,
            version: self.config.version.as_ref().map(|v| &v[..]),
            ip: Some(to),
            read_only: false,
        };
        let payload = message.to_bytes();
        self.transmit(to, payload);
    }

    /// A response (or an error, as `Err(code)`) arrived for transaction `tid`.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: &[u8],
        response: Result<&Response<'_>, i64>,
    ) {
        let Ok(key) = <[u8; 4]>::try_from(tid) else {
            self.stats.unexpected += 1;
            return;
        };
        // Only the address we asked may answer (a spoofed source cannot guess the id either).
        let matches = self.pending.get(&key).is_some_and(|p| p.addr == from);
        if !matches {
            self.stats.unexpected += 1;
            tracing::trace!(%from, "dht: response without a matching request");
            return;
        }
        let Some(pending) = self.pending.remove(&key) else {
            return;
        };
        self.deadlines.remove(&(pending.deadline, key));
        if let Some(soft) = pending.soft {
            self.deadlines.remove(&(soft, key));
        }
        let response = match response {
            Ok(r) => r,
            Err(code) => {
                tracing::debug!(%from, code, "dht: query answered with an error");
                return self.on_failure(now, pending);
            }
        };
        self.stats.responses += 1;
        let rtt = now.saturating_duration_since(pending.sent);
        self.rtt.sample(rtt);
        let info = NodeInfo {
            id: response.id,
            addr: from,
        };
        self.offer(now, info, Some(rtt), false);
        match pending.purpose {
            Purpose::Liveness => {}
            Purpose::Fill => self.heard_about(now, self.own_family(response)),
            Purpose::Ping(query) => self.push_event(DhtEvent::Pong {
                query,
                addr: from,
                id: Some(response.id),
            }),
            Purpose::Announce(query) => {
                if let Some((outstanding, stored)) = self
                    .lookups
                    .get_mut(&query)
                    .and_then(|l| l.announcing.as_mut())
                {
                    *outstanding = outstanding.saturating_sub(1);
                    *stored += 1;
                }
                self.maybe_finish_announce(now, query);
            }
            Purpose::Lookup(query) | Purpose::Seed(query) => {
                let target = self.lookups.get(&query).map(|l| l.target);
                let done = target.is_some_and(|t| self.collect_item(query, t, response));
                self.lookup_response(now, query, &pending, info, response);
                if done {
                    self.finish_item(now, query);
                }
            }
        }
    }

    fn lookup_response(
        &mut self,
        now: Instant,
        query: crate::dht::lookup::QueryId,
        pending: &Pending,
        info: NodeInfo,
        response: &Response<'_>,
    ) {
        let own = self.id();
        let max = self.config.max_candidates;
        let max_peers = self.config.peers.max_peers_per_hash;
        let learned = self.own_family(response);
        let Some(lookup) = self.lookups.get_mut(&query) else {
            return;
        };
        let hop = match pending.purpose {
            Purpose::Seed(_) => {
                lookup.seeds_pending = lookup.seeds_pending.saturating_sub(1);
                // A seed is a hop-1 contact that we learnt the id of only now.
                lookup.add(&own, &[info], 1, max);
                if let Some(c) = lookup.find(&info.id) {
                    c.status = Status::Responded;
                }
                1
            }
            _ => lookup.find(&info.id).map_or(1, |c| c.hop),
        };
        if let Some(c) = lookup.find(&info.id).filter(|c| c.info.addr == info.addr) {
            c.status = Status::Responded;
            c.answered = Some(now);
            c.token = response.token.map(<[u8]>::to_vec);
        }
        // The node at that address answered with another id than the one we were told (it
        // changed its id, or a stale `nodes` entry): the candidate we asked will never answer
        // as itself, so it must not stay in flight and hold the lookup open.
        if let Some(asked) = pending.node.filter(|id| *id != info.id) {
            if let Some(c) = lookup.find(&asked) {
                // This answer closed one of its requests.
                c.outstanding = c.outstanding.saturating_sub(1);
                if c.status == Status::InFlight {
                    c.status = Status::Failed;
                }
            }
        }
        lookup.absorb(&own, learned, hop + 1, max);
        lookup.add_peers(now, &response.values, max_peers);
        let closest = lookup
            .candidates
            .iter()
            .find(|c| c.status == Status::Responded)
            .map(|c| c.info.id);
        let improved = closest.is_some() && closest != lookup.best;
        if improved {
            lookup.best = closest;
        }
        let progress = match (improved, closest, lookup.origin) {
            (true, Some(closest), crate::dht::lookup::Origin::User) => Some(DhtEvent::Progress {
                query,
                responded: lookup.responded(),
                in_flight: lookup.in_flight(),
                closest,
            }),
            _ => None,
        };
        let bootstrap = lookup.origin == crate::dht::lookup::Origin::Bootstrap;
        if let Some(event) = progress {
            self.push_event(event);
        }
        self.heard_about(now, learned);
        self.advance(now, query);
        if bootstrap {
            self.wake_awaiting(now, false);
        }
    }

    /// The nodes of an answer in the family we speak (BEP 32 `nodes6` when we are on IPv6).
    fn own_family<'r>(&self, response: &'r Response<'_>) -> &'r [NodeInfo] {
        if self.config.local.is_ipv4() {
            &response.nodes
        } else {
            &response.nodes6
        }
    }

    /// A request failed (timeout or error answer).
    pub(crate) fn on_failure(&mut self, now: Instant, pending: Pending) {
        if let Some(id) = pending.node {
            self.table.on_failure(now, &id);
        }
        match pending.purpose {
            Purpose::Liveness | Purpose::Fill => {}
            Purpose::Ping(query) => self.push_event(DhtEvent::Pong {
                query,
                addr: pending.addr,
                id: None,
            }),
            Purpose::Announce(query) => {
                if let Some((outstanding, _)) = self
                    .lookups
                    .get_mut(&query)
                    .and_then(|l| l.announcing.as_mut())
                {
                    *outstanding = outstanding.saturating_sub(1);
                }
                self.maybe_finish_announce(now, query);
            }
            Purpose::Seed(query) => {
                if let Some(l) = self.lookups.get_mut(&query) {
                    l.seeds_pending = l.seeds_pending.saturating_sub(1);
                }
                self.advance(now, query);
            }
            Purpose::Lookup(query) => self.lookup_failed(now, query, pending.node),
        }
    }
}
