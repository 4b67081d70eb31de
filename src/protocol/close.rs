//! The closing handshake's rules for what we send (RFC 6455 §5.5.1, §7.4).

use crate::error::{Error, Result};

/// The longest close reason in bytes: a control frame's payload is at most
/// 125 bytes, 2 of them the code (RFC 6455 §5.5).
pub(crate) const MAX_REASON: usize = 123;

/// Whether an endpoint may send `code` in a close frame: the codes of the
/// RFC 6455 §7.4.1 registry that are not reserved for reporting (1004,
/// 1005, 1006 and 1015 never go on the wire), 1012-1014 registered since
/// with IANA, and 3000-4999 for libraries, frameworks and applications
/// (§7.4.2).
pub(crate) fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Checks the code and reason of a close frame we are asked to send.
///
/// Errors: [`Error::InvalidArgument`] for a code that may not be sent or a
/// reason longer than [`MAX_REASON`] bytes.
pub(crate) fn check(code: u16, reason: &str) -> Result<()> {
    if !sendable(code) {
        return Err(Error::InvalidArgument(format!(
            "close code {code} may not be sent (RFC 6455 section 7.4)"
        )));
    }
    if reason.len() > MAX_REASON {
        return Err(Error::InvalidArgument(format!(
            "a close reason is at most {MAX_REASON} bytes, not {}",
            reason.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_codes_and_long_reasons_are_refused() {
        for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert!(check(code, "").is_err(), "{code}");
        }
        for code in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(check(code, "").is_ok(), "{code}");
        }
        assert!(check(1000, &"a".repeat(MAX_REASON)).is_ok());
        assert!(check(1000, &"a".repeat(MAX_REASON + 1)).is_err());
    }
}
