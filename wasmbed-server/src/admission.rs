//! HELLO admission: whether a device's first frame lets it in (our protocol version, a device id
//! that matches its client certificate and is not bound to another), and binding a first-seen
//! id to its certificate.

use std::net::SocketAddr;

use tracing::info;
use wasmbed_protocol::{ErrorCode, Message, PROTOCOL_VERSION};

use crate::binding::Binding;
use crate::state::Shared;

/// Why a first frame is not an acceptable HELLO.
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    /// Label of `wasmbed_protocol_errors_total`.
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

/// Checks the first frame: a HELLO of our version whose device id matches the client
/// certificate (mTLS), and, under optional mTLS, an id once bound to a certificate (see
/// [`crate::binding`]) is not claimed without one. Returns the device id and firmware version.
pub(crate) fn check_hello(
    shared: &Shared,
    message: Message,
    client_cn: Option<&str>,
) -> Result<(String, String), Refusal> {
    let refuse = |code, kind, message| {
        Err(Refusal {
            code,
            kind,
            message,
        })
    };
    let (version, device_id, firmware_version) = match message {
        Message::Hello {
            version,
            device_id,
            firmware_version,
        } => (version, device_id, firmware_version),
        other => {
            let got = other.message_type().as_str();
            return refuse(
                ErrorCode::UnexpectedMessage,
                "unexpected_message",
                format!("expected HELLO first, got {got}"),
            );
        }
    };
    if version != PROTOCOL_VERSION {
        return refuse(
            ErrorCode::UnsupportedVersion,
            "unsupported_version",
            format!(
                "protocol version {version} is not supported; this gateway speaks {PROTOCOL_VERSION}"
            ),
        );
    }
    match client_cn {
        Some(cn) if cn != device_id => refuse(
            ErrorCode::DeviceIdMismatch,
            "device_id_mismatch",
            format!("device id {device_id:?} does not match the client certificate's CN {cn:?}"),
        ),
        None if shared.bindings.is_bound(&device_id) => refuse(
            ErrorCode::DeviceIdMismatch,
            "device_id_mismatch",
            format!("device id {device_id:?} is bound to a client certificate; present it"),
        ),
        _ => Ok((device_id, firmware_version)),
    }
}

/// Binds the device id to its client certificate (a no-op for a known id); returns once the
/// binding is in the state file, so that no device gets HELLO_ACK for a binding a crash could
/// lose.
pub(crate) async fn bind(shared: &Shared, cert: Binding, peer: SocketAddr) -> Result<(), Refusal> {
    let device_id = cert.device_id.clone();
    match shared.bindings.bind(cert).await {
        Ok(false) => Ok(()),
        Ok(true) => {
            shared
                .metrics
                .device_bindings
                .set(shared.bindings.len() as i64);
            info!(
                device_id,
                %peer,
                "device id bound to its client certificate; from now on it is refused without one"
            );
            Ok(())
        }
        Err(e) => {
            if let Some(suppressed) = shared.log_limiter.allow("binding_write_failed") {
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::error!(device_id, %peer, error = %e, cause, suppressed_since_last = suppressed, "cannot record a device binding; device refused");
            }
            Err(Refusal {
                code: ErrorCode::Internal,
                kind: "binding_write_failed",
                message:
                    "the gateway cannot record this device id's certificate binding; retry later"
                        .into(),
            })
        }
    }
}
