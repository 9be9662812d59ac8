//! Bearer-token authentication of the HTTP API (RFC 6750).
//!
//! Every API endpoint except `/health`, `/ready` and `/metrics` needs
//! `Authorization: Bearer <token>` ([RFC 6750 section 2.1]). A missing or wrong token is answered
//! 401 with `WWW-Authenticate: Bearer realm="wasmbed"` ([RFC 6750 section 3]) and the same JSON
//! body whatever the path, so the answer never tells whether a device exists. Tokens are
//! compared in constant time.
//!
//! # FAQ
//!
//! *Why does a library default to refusing every request?* A [`Gateway`](crate::Gateway)
//! starts with [`ApiAuth::Locked`]: until its owner names a token (or asks for
//! [`ApiAuth::InsecureNoAuth`] by name), nobody can read or change device state through it.
//!
//! [RFC 6750 section 2.1]: https://www.rfc-editor.org/rfc/rfc6750#section-2.1
//! [RFC 6750 section 3]: https://www.rfc-editor.org/rfc/rfc6750#section-3

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use subtle::ConstantTimeEq as _;

/// Paths served without a token: probes and the Prometheus scraper.
pub const OPEN_PATHS: [&str; 3] = ["/health", "/ready", "/metrics"];

/// A bearer token: 32 to 512 characters of RFC 6750's `b64token` alphabet
/// (`A-Z a-z 0-9 - . _ ~ + /`, then optional `=` padding).
///
/// Its `Debug` output hides the secret.
#[derive(Clone)]
pub struct ApiToken(Box<str>);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiToken({} characters, hidden)", self.0.len())
    }
}

/// Why a token or token file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiTokenError {
    /// The file cannot be read (missing, a directory, no permission).
    #[error("cannot read the API token file {}", path.display())]
    Read {
        /// The token file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file cannot be written (dev mode makes one).
    #[error("cannot write the API token file {}", path.display())]
    Write {
        /// The token file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The token breaks a rule.
    #[error(
        "the API token{} {reason}; it must be {min} to {max} characters of A-Z a-z 0-9 - . _ ~ + / \
         (then optional '='), alone in the file, e.g. made with `openssl rand -hex 32`",
        path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default(),
        min = ApiToken::MIN_LEN,
        max = ApiToken::MAX_LEN
    )]
    Invalid {
        /// The token file, when the token came from one.
        path: Option<PathBuf>,
        /// What is wrong, e.g. "is empty" or "is 12 characters long".
        reason: String,
    },
}

impl ApiToken {
    /// Fewest characters accepted: 32 (128 bits as hex).
    pub const MIN_LEN: usize = 32;
    /// Most characters accepted: 512.
    pub const MAX_LEN: usize = 512;

    /// Checks `token` against the rules above.
    ///
    /// # Errors
    ///
    /// [`ApiTokenError::Invalid`] saying which rule it breaks.
    pub fn new(token: &str) -> Result<ApiToken, ApiTokenError> {
        check(token).map_err(|reason| ApiTokenError::Invalid { path: None, reason })?;
        Ok(ApiToken(token.into()))
    }

    /// A new random token: 256 bits as 64 lowercase hex digits.
    pub fn generate() -> ApiToken {
        let bytes: [u8; 32] = rand::random();
        ApiToken(hex::encode(bytes).into())
    }

    /// Reads a token file: the token alone, optionally followed by one newline.
    ///
    /// # Errors
    ///
    /// [`ApiTokenError::Read`] when the file cannot be read, [`ApiTokenError::Invalid`] when it
    /// is empty, larger than [`ApiToken::MAX_LEN`] plus a newline, or the token breaks a rule.
    pub fn load(path: &Path) -> Result<ApiToken, ApiTokenError> {
        let read_error = |source| ApiTokenError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        // One byte past the longest valid content, so that an oversized file is refused
        // without reading all of it.
        file.take(ApiToken::MAX_LEN as u64 + 3)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        let invalid = |reason: String| ApiTokenError::Invalid {
            path: Some(path.to_owned()),
            reason,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid("is not text".into()))?;
        let token = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(text);
        check(token).map_err(invalid)?;
        Ok(ApiToken(token.into()))
    }

    /// Writes the token to a new file `path` with mode 0600; an existing file is kept.
    ///
    /// # Errors
    ///
    /// [`ApiTokenError::Write`], also when `path` exists.
    pub fn save_new(&self, path: &Path) -> Result<(), ApiTokenError> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let write_error = |source| ApiTokenError::Write {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(write_error)?;
        file.write_all(self.0.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(write_error)
    }

    /// The token itself, for a client to send.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn matches(&self, offered: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(offered))
    }
}

fn check(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err("is empty".into());
    }
    let len = token.chars().count();
    if !(ApiToken::MIN_LEN..=ApiToken::MAX_LEN).contains(&len) {
        return Err(format!("is {len} characters long"));
    }
    let body = token.trim_end_matches('=');
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        return Err(
            "has a character outside the allowed set (whitespace or a second line?)".into(),
        );
    }
    Ok(())
}

/// How the API authenticates requests to its device endpoints.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ApiAuth {
    /// Refuse every request to a device endpoint (the default until a token is set).
    Locked,
    /// Require `Authorization: Bearer <token>`.
    Bearer(ApiToken),
    /// No authentication: anyone who reaches the API port can read and change device state.
    InsecureNoAuth,
}

/// Why a request was refused: the message the client gets, and the RFC 6750 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A bearer token that is not the configured one.
    Wrong,
}

impl Refusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Refusal::Missing => {
                "authentication required: send Authorization: Bearer <token>, the token in the gateway's --api-token-file (dev mode: <state-dir>/api-token)"
            }
            Refusal::Wrong => "invalid bearer token",
        }
    }

    /// The `WWW-Authenticate` value ([RFC 6750 section 3.1]: no error code when the request
    /// had no credentials).
    ///
    /// [RFC 6750 section 3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
    pub(crate) fn challenge(self) -> &'static str {
        match self {
            Refusal::Missing => r#"Bearer realm="wasmbed""#,
            Refusal::Wrong => r#"Bearer realm="wasmbed", error="invalid_token""#,
        }
    }
}

/// Client addresses remembered for "logged once per client"; when full, older entries are
/// dropped and further refusals share the gateway's per-class log limit.
pub const REFUSAL_LOG_CLIENTS: usize = 1024;

/// How long a client address stays logged: its next refusal after this is logged again, with
/// the count of those in between.
pub const REFUSAL_LOG_WINDOW: Duration = Duration::from_secs(600);

/// The current [`ApiAuth`] and the per-client log of refusals.
#[derive(Debug)]
pub(crate) struct Authenticator {
    auth: RwLock<Arc<ApiAuth>>,
    logged: Mutex<HashMap<IpAddr, (Instant, u64)>>,
}

/// What to log about a refusal.
pub(crate) enum LogRefusal {
    /// First refusal of this client in the window; `u64` refusals were not logged before it.
    Log(u64),
    /// Already logged.
    Quiet,
    /// The table is full: use the global limiter.
    Overflow,
}

impl Authenticator {
    pub(crate) fn new() -> Authenticator {
        Authenticator {
            auth: RwLock::new(Arc::new(ApiAuth::Locked)),
            logged: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn set(&self, auth: ApiAuth) {
        *self.auth.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(auth);
    }

    pub(crate) fn get(&self) -> Arc<ApiAuth> {
        self.auth.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Checks a request's headers.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let auth = self.get();
        let token = match &*auth {
            ApiAuth::InsecureNoAuth => return Ok(()),
            ApiAuth::Locked => None,
            ApiAuth::Bearer(token) => Some(token),
        };
        // RFC 6750 section 2.1: `Bearer 1*SP b64token`; the scheme is case-insensitive
        // (RFC 9110 section 11.1).
        let offered = headers.get_all(AUTHORIZATION).iter().find_map(|value| {
            let value = value.as_bytes();
            let (scheme, rest) = value.split_at(value.iter().position(|&b| b == b' ')?);
            scheme
                .eq_ignore_ascii_case(b"bearer")
                .then(|| rest.trim_ascii())
        });
        match (offered, token) {
            (None, _) => Err(Refusal::Missing),
            (Some(offered), Some(token)) if token.matches(offered) => Ok(()),
            (Some(_), _) => Err(Refusal::Wrong),
        }
    }

    /// Whether to log a refusal for `client` now.
    pub(crate) fn log_refusal(&self, client: IpAddr) -> LogRefusal {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((since, count)) = logged.get_mut(&client) {
            if now.duration_since(*since) < REFUSAL_LOG_WINDOW {
                *count += 1;
                return LogRefusal::Quiet;
            }
            let skipped = std::mem::take(count);
            *since = now;
            return LogRefusal::Log(skipped);
        }
        if logged.len() >= REFUSAL_LOG_CLIENTS {
            logged.retain(|_, (since, _)| now.duration_since(*since) < REFUSAL_LOG_WINDOW);
            if logged.len() >= REFUSAL_LOG_CLIENTS {
                return LogRefusal::Overflow;
            }
        }
        logged.insert(client, (now, 0));
        LogRefusal::Log(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn token_rules() {
        for (token, ok) in [
            (GOOD, true),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-._~+/==", true),
            ("", false),
            ("short", false),
            ("0123456789abcdef 0123456789abcdef", false),
            ("0123456789abcdef0123456789abcdef\nsecond", false),
            ("================================", false),
            ("0123456789abcdef0123456789abcdeé", false),
        ] {
            assert_eq!(ApiToken::new(token).is_ok(), ok, "{token:?}");
        }
        assert!(ApiToken::new(&"a".repeat(ApiToken::MAX_LEN)).is_ok());
        assert!(ApiToken::new(&"a".repeat(ApiToken::MAX_LEN + 1)).is_err());
        assert!(!format!("{:?}", ApiToken::new(GOOD).unwrap()).contains(GOOD));
    }

    #[test]
    fn generated_tokens_are_256_bits_and_differ() {
        let (a, b) = (ApiToken::generate(), ApiToken::generate());
        assert_eq!(a.expose().len(), 64);
        assert!(ApiToken::new(a.expose()).is_ok());
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn files_hold_the_token_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        for (content, ok) in [
            (format!("{GOOD}\n"), true),
            (format!("{GOOD}\r\n"), true),
            (GOOD.to_owned(), true),
            (format!("{GOOD}\n\n"), false),
            (format!(" {GOOD}"), false),
            ("\n".to_owned(), false),
            ("a".repeat(100_000), false),
        ] {
            std::fs::write(&path, &content).unwrap();
            assert_eq!(ApiToken::load(&path).is_ok(), ok, "{content:?}");
        }
        let missing = ApiToken::load(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, ApiTokenError::Read { .. }), "{missing}");

        let made = dir.path().join("made");
        let token = ApiToken::generate();
        token.save_new(&made).unwrap();
        assert_eq!(ApiToken::load(&made).unwrap().expose(), token.expose());
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&made).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(ApiToken::generate().save_new(&made).is_err());
    }

    #[test]
    fn bearer_header_checks() {
        let auth = Authenticator::new();
        let headers = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            headers
        };
        assert_eq!(
            auth.check(&headers(Some(&format!("Bearer {GOOD}")))),
            Err(Refusal::Wrong),
            "locked until a token is set"
        );
        auth.set(ApiAuth::Bearer(ApiToken::new(GOOD).unwrap()));
        let (good, longer, spaced) = (
            format!("Bearer {GOOD}"),
            format!("Bearer {GOOD}x"),
            format!("bearer  {GOOD}"),
        );
        let cases: [(Option<&str>, Result<(), Refusal>); 7] = [
            (None, Err(Refusal::Missing)),
            (Some("Basic dXNlcjpwYXNz"), Err(Refusal::Missing)),
            (Some("Bearer"), Err(Refusal::Missing)),
            (Some("Bearer wrong"), Err(Refusal::Wrong)),
            (Some(&longer), Err(Refusal::Wrong)),
            (Some(&good), Ok(())),
            (Some(&spaced), Ok(())),
        ];
        for (value, expected) in cases {
            assert_eq!(auth.check(&headers(value)), expected, "{value:?}");
        }
        auth.set(ApiAuth::InsecureNoAuth);
        assert_eq!(auth.check(&headers(None)), Ok(()));
    }

    #[test]
    fn refusals_are_logged_once_per_client() {
        let auth = Authenticator::new();
        let a: IpAddr = [192, 0, 2, 1].into();
        assert!(matches!(auth.log_refusal(a), LogRefusal::Log(0)));
        assert!(matches!(auth.log_refusal(a), LogRefusal::Quiet));
        assert!(matches!(auth.log_refusal(a), LogRefusal::Quiet));
        assert!(matches!(
            auth.log_refusal([192, 0, 2, 2].into()),
            LogRefusal::Log(0)
        ));
        for i in 0..REFUSAL_LOG_CLIENTS as u32 {
            let _ = auth.log_refusal(IpAddr::from((0x0a00_0000 + i).to_be_bytes()));
        }
        assert!(matches!(
            auth.log_refusal([198, 51, 100, 1].into()),
            LogRefusal::Overflow
        ));
        let mut logged = auth.logged.lock().unwrap();
        logged.get_mut(&a).unwrap().0 -= REFUSAL_LOG_WINDOW;
        drop(logged);
        assert!(matches!(auth.log_refusal(a), LogRefusal::Log(2)));
    }
}
