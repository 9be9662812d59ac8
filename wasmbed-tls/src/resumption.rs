//! Session resumption: how the gateway's NewSessionTicket messages are sized to fit a device
//! record, and how long a session can be resumed.
//!
//! # Why stateful tickets with client certificates?
//!
//! A stateless ticket (RFC 5077, RFC 8446 section 4.6.1) is the whole session encrypted, and
//! with mTLS the session holds the client's certificate chain, whose size the gateway does not
//! know in advance. rustls sends its TLS 1.3 tickets as one flight cut into records, and
//! mbedTLS before 3.6.3 fails (`-0x7080`) on a handshake message split across records, so
//! with mTLS and a device limit the gateway keeps sessions in its cache and sends a 32-byte id
//! instead: one NewSessionTicket of [`STATEFUL_TICKET_LEN`] bytes whatever the chain. One, not
//! two: mbedTLS keeps one ticket, every resumption brings a new one, and the cache
//! ([`ServerOptions::session_cache_size`]) then holds one entry per device. Without client
//! certificates the stateless ticket is bounded ([`stateless_ticket_len`]) and as many as fit
//! one record are sent (at most rustls' 2).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::server::{ProducesTickets, StoresServerSessions};

use crate::server::ServerOptions;

/// Default [`ServerOptions::session_lifetime`]: 12 hours, what rustls' ticketer announces.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The [`ServerOptions::session_lifetime`] values accepted, in seconds: rustls rotates its
/// ticket keys every 6 hours and accepts the previous key's tickets, so no ticket lives past
/// 12 hours whatever is configured.
pub const SESSION_LIFETIME_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=12 * 60 * 60;

/// Tickets rustls sends per TLS 1.3 handshake by default.
const RUSTLS_TLS13_TICKETS: usize = 2;

/// Bytes of a TLS 1.3 NewSessionTicket message around the ticket (RFC 8446 section 4.6.1):
/// handshake header 4, ticket_lifetime 4, ticket_age_add 4, nonce 1 + 32 (rustls' nonce),
/// ticket length 2, extensions length 2 (no early data).
const TLS13_TICKET_OVERHEAD: usize = 4 + 4 + 4 + 1 + 32 + 2 + 2;

/// Size in bytes of the TLS 1.3 NewSessionTicket message of a stateful ticket: a 32-byte id.
pub const STATEFUL_TICKET_LEN: usize = TLS13_TICKET_OVERHEAD + 32;

/// Bytes the expiry time adds to a session value (a big-endian u64 of seconds).
const EXPIRY_LEN: usize = 8;

/// Bytes rustls' RFC 5077 ticketer adds to the plaintext (key name 16, IV 16, length 2, CBC
/// padding up to 16, HMAC-SHA256 32).
const TICKETER_OVERHEAD: usize = 16 + 16 + 2 + 16 + 32;

/// An upper bound, in bytes, of the TLS 1.3 NewSessionTicket message of a stateless ticket
/// whose session carries `client_chain` (empty without a client certificate) and the longest
/// ALPN name in `options`.
///
/// The session value (rustls' encoding) is the SNI (up to 253 bytes), version, suite, the
/// master secret (up to 48), the client chain, the ALPN name, creation time and age offset;
/// the gateway adds its expiry time, rustls' ticketer its encryption overhead. A TLS 1.2
/// NewSessionTicket (RFC 5077 section 3.3) is smaller.
pub fn stateless_ticket_len(
    client_chain: &[rustls::pki_types::CertificateDer<'_>],
    options: &ServerOptions,
) -> usize {
    let alpn = options.alpn.iter().map(Vec::len).max().unwrap_or(0);
    let chain = if client_chain.is_empty() {
        0
    } else {
        3 + client_chain.iter().map(|c| 3 + c.len()).sum::<usize>()
    };
    let session = (1 + 1 + 253) + 2 + 2 + (1 + 48) + 1 + (1 + chain) + (1 + 1 + alpn) + 2 + 8 + 4;
    TLS13_TICKET_OVERHEAD + TICKETER_OVERHEAD + EXPIRY_LEN + session
}

/// How the gateway offers session resumption ([`resumption`](crate::resumption())).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resumption {
    /// Tickets carrying the encrypted session (TLS 1.2 RFC 5077 and TLS 1.3); TLS 1.2 clients
    /// without ticket support resume by session id.
    Stateless {
        /// TLS 1.3 tickets sent after each handshake (0 when not even one fits).
        tickets: usize,
        /// Upper bound of one ticket message, in bytes ([`stateless_ticket_len`]).
        ticket_len: usize,
    },
    /// Sessions kept in the gateway's cache: TLS 1.3 tickets carry a 32-byte id, TLS 1.2
    /// resumes by session id (no RFC 5077 tickets).
    Stateful {
        /// TLS 1.3 tickets sent after each handshake.
        tickets: usize,
        /// Size of one ticket message, in bytes ([`STATEFUL_TICKET_LEN`]).
        ticket_len: usize,
    },
}

impl Resumption {
    /// TLS 1.3 tickets sent after each handshake.
    pub fn tickets(self) -> usize {
        match self {
            Resumption::Stateless { tickets, .. } | Resumption::Stateful { tickets, .. } => tickets,
        }
    }

    /// Bytes of all the tickets of one handshake, which rustls sends as one flight.
    pub fn ticket_flight_len(self) -> usize {
        match self {
            Resumption::Stateless {
                tickets,
                ticket_len,
            }
            | Resumption::Stateful {
                tickets,
                ticket_len,
            } => tickets * ticket_len,
        }
    }

    /// Whether sessions are kept in the gateway's cache.
    pub fn is_stateful(self) -> bool {
        matches!(self, Resumption::Stateful { .. })
    }
}

/// Chooses how to resume so that the tickets of one handshake fit one device record (`fits`
/// bytes of plaintext; `None` without a device limit): with client certificates
/// (`client_certificates`) and a device limit, stateful tickets (one); otherwise as many
/// stateless tickets as fit, at most 2, and stateful tickets if not even one does.
pub(crate) fn plan(
    options: &ServerOptions,
    fits: Option<usize>,
    client_certificates: bool,
) -> Resumption {
    let ticket_len = stateless_ticket_len(&[], options);
    let Some(fits) = fits else {
        return Resumption::Stateless {
            tickets: RUSTLS_TLS13_TICKETS,
            ticket_len,
        };
    };
    let stateless = (fits / ticket_len).min(RUSTLS_TLS13_TICKETS);
    if !client_certificates && stateless > 0 {
        return Resumption::Stateless {
            tickets: stateless,
            ticket_len,
        };
    }
    Resumption::Stateful {
        tickets: (fits / STATEFUL_TICKET_LEN).min(1),
        ticket_len: STATEFUL_TICKET_LEN,
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `value` prefixed with its expiry time, `lifetime` from now.
fn with_expiry(value: &[u8], lifetime: Duration) -> Vec<u8> {
    let expiry = now_secs().saturating_add(lifetime.as_secs());
    let mut out = Vec::with_capacity(EXPIRY_LEN + value.len());
    out.extend_from_slice(&expiry.to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// The value without its expiry time, if it has not expired.
fn unexpired(mut stored: Vec<u8>) -> Option<Vec<u8>> {
    let expiry = u64::from_be_bytes(stored.get(..EXPIRY_LEN)?.try_into().ok()?);
    if now_secs() > expiry {
        return None;
    }
    stored.drain(..EXPIRY_LEN);
    Some(stored)
}

/// rustls' ticketer with a lifetime: tickets older than it are not accepted, and TLS 1.3
/// tickets announce it (RFC 8446 section 4.6.1 `ticket_lifetime`).
pub(crate) struct ExpiringTickets {
    inner: Arc<dyn ProducesTickets>,
    lifetime: Duration,
}

impl ExpiringTickets {
    pub(crate) fn new(lifetime: Duration) -> Result<ExpiringTickets, rustls::Error> {
        Ok(ExpiringTickets {
            inner: rustls::crypto::aws_lc_rs::Ticketer::new()?,
            lifetime,
        })
    }
}

impl std::fmt::Debug for ExpiringTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpiringTickets")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl ProducesTickets for ExpiringTickets {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        u32::try_from(self.lifetime.as_secs()).unwrap_or(u32::MAX)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.inner.encrypt(&with_expiry(plain, self.lifetime))
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        unexpired(self.inner.decrypt(cipher)?)
    }
}

/// A session cache whose entries expire after a lifetime (rustls' cache only evicts the
/// oldest when full).
pub(crate) struct ExpiringCache {
    inner: Arc<dyn StoresServerSessions>,
    lifetime: Duration,
}

impl ExpiringCache {
    pub(crate) fn new(size: usize, lifetime: Duration) -> ExpiringCache {
        ExpiringCache {
            inner: rustls::server::ServerSessionMemoryCache::new(size),
            lifetime,
        }
    }
}

impl std::fmt::Debug for ExpiringCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpiringCache")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl StoresServerSessions for ExpiringCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.inner.put(key, with_expiry(&value, self.lifetime))
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        unexpired(self.inner.get(key)?)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        unexpired(self.inner.take(key)?)
    }

    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_prefix_round_trips_and_expires() {
        let stored = with_expiry(b"session", Duration::from_secs(60));
        assert_eq!(unexpired(stored).as_deref(), Some(&b"session"[..]));
        let mut old = with_expiry(b"session", Duration::ZERO);
        old[..8].copy_from_slice(&(now_secs() - 1).to_be_bytes());
        assert_eq!(unexpired(old), None);
        assert_eq!(unexpired(vec![1, 2, 3]), None);
    }

    #[test]
    fn plan_follows_client_auth_and_device_limit() {
        let options = ServerOptions::default();
        let len = stateless_ticket_len(&[], &options);
        assert_eq!(plan(&options, None, false).tickets(), 2);
        assert_eq!(
            plan(&options, Some(1495), false),
            Resumption::Stateless {
                tickets: 2,
                ticket_len: len
            }
        );
        assert_eq!(plan(&options, Some(507), false).tickets(), 1);
        assert!(plan(&options, Some(len - 1), false).is_stateful());
        assert_eq!(plan(&options, None, true).tickets(), 2);
        assert_eq!(
            plan(&options, Some(1019), true),
            Resumption::Stateful {
                tickets: 1,
                ticket_len: STATEFUL_TICKET_LEN
            }
        );
    }
}
