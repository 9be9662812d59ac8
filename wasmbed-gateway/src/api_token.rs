//! The HTTP API's bearer token: from --api-token-file or made in the state directory, reread on SIGHUP.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tracing::{error, info, warn};
use wasmbed_server::{ApiAuth, ApiToken, Gateway, Mode};
use wasmbed_tls::key_readable_by_others;

use crate::cli::ServeArgs;

/// The dev-mode token file, in the state directory.
const DEV_API_TOKEN_FILE: &str = "api-token";

/// Sets the API's authentication from the flags; returns the token file clients read.
///
/// Production needs `--api-token-file` (or `--insecure-api-no-auth`, by name); dev mode makes
/// `<state-dir>/api-token` once and reuses it.
pub(crate) fn api_auth(args: &ServeArgs, mode: Mode, gateway: &Gateway) -> Result<Option<PathBuf>> {
    if args.insecure_api_no_auth {
        gateway.set_api_auth(ApiAuth::InsecureNoAuth);
        return Ok(None);
    }
    let path = match (&args.api_token_file, mode) {
        (Some(path), _) => path.clone(),
        // clap already refuses --cert without --api-token-file or --insecure-api-no-auth; this
        // keeps the API closed should that rule ever be lost.
        (None, Mode::Production) => anyhow::bail!(
            "production mode (--cert) needs --api-token-file FILE with the HTTP API's bearer token, \
             or --insecure-api-no-auth to serve the API without authentication"
        ),
        (None, Mode::Dev) => {
            let path = args.state_dir.join(DEV_API_TOKEN_FILE);
            if !path.exists() {
                std::fs::create_dir_all(&args.state_dir).with_context(|| {
                    format!(
                        "cannot create the state directory {} (--state-dir)",
                        args.state_dir.display()
                    )
                })?;
                ApiToken::generate().save_new(&path)?;
                info!(file = %path.display(), "made an API token (mode 0600)");
            }
            path
        }
    };
    let token = load_api_token(&path).with_context(|| {
        if args.api_token_file.is_none() {
            format!(
                "the dev API token is unusable (delete {} to make a new one)",
                path.display()
            )
        } else {
            "cannot use --api-token-file".to_owned()
        }
    })?;
    gateway.set_api_auth(ApiAuth::Bearer(token));
    Ok(Some(path))
}

/// Loads a token file and warns when others may read it.
fn load_api_token(path: &Path) -> Result<ApiToken, wasmbed_server::ApiTokenError> {
    let token = ApiToken::load(path)?;
    if let Ok(Some(mode)) = key_readable_by_others(path) {
        warn!(file = %path.display(), mode = format!("{mode:o}"), "the API token file is readable by other users; chmod 600 it");
    }
    Ok(token)
}

/// Rereads the token file on SIGHUP; a file that fails its checks keeps the current token.
pub(crate) async fn reload_api_token_on_signal(gateway: Gateway, path: PathBuf) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return error!("cannot listen for SIGHUP; API token reload is off");
    };
    while hup.recv().await.is_some() {
        match load_api_token(&path) {
            Ok(token) => {
                gateway.set_api_auth(ApiAuth::Bearer(token));
                info!(file = %path.display(), "API token reloaded");
            }
            Err(e) => error!(
                error = %anyhow::Error::from(e).chain().map(ToString::to_string).collect::<Vec<_>>().join(": "),
                "API token reload failed; keeping the current token"
            ),
        }
    }
}
