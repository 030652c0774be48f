//! BEP 44 from the storing side: answering `get` and `put`.

use core::net::SocketAddr;

use crate::dht::id::NodeId;
use crate::dht::item::{Item, MutableItem, immutable_target, mutable_target};
use crate::dht::krpc::{Body, ERROR_PROTOCOL, ErrorBody, Put, Response};
use crate::dht::node::DhtNode;
use crate::time::Instant;

impl DhtNode {
    /// BEP 44 `get`: the closest nodes (`nodes`, from [`DhtNode::nodes_for`]) and a write
    /// token, plus the item if we store it.
    pub(crate) fn answer_get<'t>(
        &self,
        now: Instant,
        nodes: Response<'static>,
        target: &NodeId,
        seq: Option<i64>,
        token: &'t [u8],
    ) -> Body<'t> {
        let mut response: Response<'t> = nodes;
        response.token = Some(token);
        match self.items.get(now, target) {
            Some(Item::Immutable(value)) => response.value = Some(value.clone()),
            Some(Item::Mutable(item)) => {
                response.seq = Some(item.seq);
                // BEP 44: with `seq` in the request, the item is only sent when ours is newer.
                if seq.is_none_or(|seq| item.seq > seq) {
                    response.value = Some(item.value.clone());
                    response.key = Some(item.key);
                    response.signature = Some(item.signature);
                }
            }
            None => {}
        }
        Body::Response(response)
    }

    /// BEP 44 `put`: checks the token (as announce_peer does), then the store's rules.
    pub(crate) fn answer_put(
        &mut self,
        now: Instant,
        from: SocketAddr,
        put: &Put<'_>,
    ) -> Body<'static> {
        if !self.tokens.check(from.ip(), put.token) {
            self.stats.bad_tokens += 1;
            self.stats.puts_refused += 1;
            return Body::Error(ErrorBody {
                code: ERROR_PROTOCOL,
                message: b"bad token",
            });
        }
        // The optional `target` (sent by the `mainline` crate) must name what is stored.
        let computed = match &put.key {
            Some(key) => mutable_target(key, put.salt),
            None => immutable_target(&put.value),
        };
        if put.target.is_some_and(|t| t != computed) {
            self.stats.puts_refused += 1;
            return Body::Error(ErrorBody {
                code: ERROR_PROTOCOL,
                message: b"target does not match the item",
            });
        }
        let stored = match (put.key, put.signature, put.seq) {
            (None, _, _) => self.items.put_immutable(now, &put.value),
            (Some(key), Some(signature), Some(seq)) => {
                let item = MutableItem {
                    key,
                    salt: put.salt.to_vec(),
                    seq,
                    value: put.value.clone(),
                    signature,
                };
                self.items.put_mutable(now, item, put.cas)
            }
            _ => {
                self.stats.puts_refused += 1;
                return Body::Error(ErrorBody {
                    code: ERROR_PROTOCOL,
                    message: b"mutable put without sig or seq",
                });
            }
        };
        match stored {
            Ok(target) => {
                tracing::trace!(%from, ?target, "dht: item stored");
                Body::Response(Response {
                    id: self.id(),
                    ..Response::default()
                })
            }
            Err(refused) => {
                self.stats.puts_refused += 1;
                tracing::debug!(%from, code = refused.code, "dht: put refused");
                Body::Error(ErrorBody {
                    code: refused.code,
                    message: refused.message,
                })
            }
        }
    }
}
