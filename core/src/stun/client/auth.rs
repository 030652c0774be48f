//! The client half of the credential mechanisms (RFC 8489 §9): what protects a request, how a
//! 401/438 challenge becomes the next attempt, and which responses count as authenticated.

use crate::stun::{
    Attribute, AttributeType, Message, MessageBuilder, NonceCookie, PasswordAlgorithm,
    SecurityFeatures, TransactionId, opaque_string, try_long_term_key, try_userhash,
};

/// What a server told us to authenticate with (RFC 8489 §9.2.5), kept for the retry and for
/// later requests to the same server (§9.2.3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ServerAuth {
    realm: String,
    nonce: String,
    /// PASSWORD-ALGORITHMS exactly as the server sent it, echoed verbatim; its presence also
    /// means MESSAGE-INTEGRITY-SHA256 (RFC 8489 §9.2.5, last paragraph).
    algorithms: Option<Vec<u8>>,
    algorithm: PasswordAlgorithm,
    /// The USERNAME to send, as OpaqueString prepared it (RFC 8489 §14.3).
    username: String,
    /// RFC 8489 §9.2.5: the "Username anonymity" feature bit asks for USERHASH, sent in place
    /// of USERNAME.
    userhash: Option<[u8; 32]>,
    key: Vec<u8>,
}

/// The message integrity an attempt carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Protection {
    /// No credentials (no client credentials, or a first long-term request, RFC 8489 §9.2.3.1).
    None,
    /// RFC 8489 §9.1.2: USERNAME and MESSAGE-INTEGRITY keyed by the password.
    ShortTerm { key: Vec<u8> },
    /// RFC 8489 §9.2.5: USERNAME or USERHASH, REALM, NONCE and an integrity attribute.
    LongTerm(ServerAuth),
}

impl Protection {
    /// The key and whether MESSAGE-INTEGRITY-SHA256 (rather than MESSAGE-INTEGRITY) is used.
    fn key(&self) -> Option<(&[u8], bool)> {
        match self {
            Self::None => None,
            Self::ShortTerm { key } => Some((key, false)),
            Self::LongTerm(auth) => Some((&auth.key, auth.algorithms.is_some())),
        }
    }
}

/// Appends the credential attributes and the integrity attribute to a request.
///
/// Short-term requests carry only MESSAGE-INTEGRITY: RFC 8489 §9.1.2 lets a usage that knows
/// the peer's algorithm send just one, and the short-term usage pigeon serves is ICE, whose
/// deployed peers (RFC 5389-era agents, browsers) check HMAC-SHA1.
pub(super) fn protect(b: &mut MessageBuilder, protection: &Protection, username: &str) {
    match protection {
        Protection::None => {}
        Protection::ShortTerm { key } => {
            b.add(&Attribute::Username(username));
            b.add_message_integrity(key);
        }
        Protection::LongTerm(auth) => {
            match &auth.userhash {
                Some(hash) => b.add(&Attribute::UserHash(hash)),
                None => b.add(&Attribute::Username(&auth.username)),
            };
            b.add(&Attribute::Realm(&auth.realm));
            b.add(&Attribute::Nonce(&auth.nonce));
            match &auth.algorithms {
                Some(raw) => {
                    b.add(&Attribute::Unknown {
                        ty: AttributeType::PASSWORD_ALGORITHMS,
                        value: raw,
                    });
                    b.add(&Attribute::PasswordAlgorithm(auth.algorithm));
                    b.add_message_integrity_sha256(&auth.key);
                }
                None => {
                    b.add_message_integrity(&auth.key);
                }
            }
        }
    }
}

/// Whether a response carries MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256.
pub(super) fn has_integrity(msg: &Message<'_>) -> bool {
    msg.contains(AttributeType::MESSAGE_INTEGRITY)
        || msg.contains(AttributeType::MESSAGE_INTEGRITY_SHA256)
}

/// RFC 8489 §9.1.4, §9.2.5: a response to a protected request counts only if it carries the
/// same integrity attribute as the request, computed with the same key.
pub(super) fn verify(msg: &Message<'_>, protection: &Protection) -> bool {
    match protection.key() {
        None => true,
        Some((key, false)) => msg.verify_integrity(key).is_ok(),
        Some((key, true)) => msg.verify_integrity_sha256(key).is_ok(),
    }
}

/// The features a NONCE's cookie announces (none without a cookie).
fn features(nonce: &str) -> SecurityFeatures {
    NonceCookie::parse(nonce).map_or_else(SecurityFeatures::default, |c| c.features)
}

/// RFC 8489 §9.2.5: a response whose nonce cookie announces password algorithms but which
/// lacks PASSWORD-ALGORITHMS may have been stripped by an attacker (a bid-down): ignore it.
pub(super) fn bid_down_suspect(msg: &Message<'_>) -> bool {
    msg.nonce().is_some_and(|nonce| {
        features(nonce).contains(SecurityFeatures::PASSWORD_ALGORITHMS)
            && !msg.contains(AttributeType::PASSWORD_ALGORITHMS)
    })
}

/// RFC 8489 §9.2.5: the credentials for a new attempt after a 401 or 438, or `None` when the
/// RFC forbids retrying (the caller then reports the error response as the answer).
pub(super) fn challenge(
    msg: &Message<'_>,
    previous: &Protection,
    username: &str,
    password: &str,
) -> Option<ServerAuth> {
    let nonce = msg.nonce()?;
    let features = features(nonce);
    let offered = msg.get(AttributeType::PASSWORD_ALGORITHMS);
    // "the client MUST NOT retry the request with a new transaction".
    if features.contains(SecurityFeatures::PASSWORD_ALGORITHMS) && offered.is_none() {
        return None;
    }
    let previous = match previous {
        Protection::LongTerm(auth) => Some(auth),
        _ => None,
    };
    let stale = msg.error_code().is_some_and(|e| e.code == 438);
    let realm = match (msg.realm(), previous) {
        (Some(realm), _) => realm,
        // A 438 "MUST include NONCE, REALM, and PASSWORD-ALGORITHMS"; tolerate a missing
        // REALM by keeping the one in use.
        (None, Some(prev)) if stale => prev.realm.as_str(),
        (None, _) => return None,
    };
    // A 401: "The client MUST NOT perform this retry if it is not changing the USERNAME,
    // USERHASH, REALM, or its associated password from the previous attempt."
    if !stale && previous.is_some_and(|prev| prev.realm == realm) {
        return None;
    }
    let (algorithms, algorithm) = match offered {
        None => (None, PasswordAlgorithm::Md5),
        Some(Ok(list @ Attribute::PasswordAlgorithms(algs))) => {
            // "a PASSWORD-ALGORITHM attribute with the first algorithm supported on the list";
            // none supported: "MUST NOT retry".
            let algorithm = algs.iter().find(|a| a.is_supported())?;
            let mut raw = Vec::new();
            list.encode_value(&TransactionId::default(), &mut raw);
            (Some(raw), algorithm)
        }
        Some(_) => return None,
    };
    // RFC 8489 §9.2.2, §14.3, §14.4: username, realm and password are OpaqueStrings. A realm
    // (the server's) or credentials (ours) the profile refuses cannot make a key: no retry.
    let prepared = (
        opaque_string(username),
        try_long_term_key(algorithm, username, realm, password),
    );
    let (Ok(prepared_username), Ok(key)) = prepared else {
        tracing::debug!(
            realm,
            "credentials or realm are not valid OpaqueStrings; no retry"
        );
        return None;
    };
    let userhash = if features.contains(SecurityFeatures::USERNAME_ANONYMITY) {
        // NOTE: both strings were accepted just above, so this cannot fail; `ok()?` keeps it
        // panic-free anyway.
        Some(try_userhash(username, realm).ok()?)
    } else {
        None
    };
    Some(ServerAuth {
        realm: realm.to_owned(),
        nonce: nonce.to_owned(),
        key,
        algorithms,
        algorithm,
        username: prepared_username.into_owned(),
        userhash,
    })
}

#[cfg(test)]
mod tests;
