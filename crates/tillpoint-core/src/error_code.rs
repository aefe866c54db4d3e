//! The stable codes of the core's failures: what the window branches on (a wrong password, a
//! short payment, an unknown barcode) without parsing messages. Every `code()` of the core's
//! errors answers one of these, so the list below is complete by construction, and the desktop
//! contract exports it to the UI as a string-literal union (`ErrorCode` in
//! `ui/src/bindings.ts`): a code added here breaks the UI's type check where it must be
//! handled, and a code the UI names that the core no longer produces does not compile.

use serde::Serialize;

/// Declares the codes once, with the text each has on the wire and in logs.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "contract", derive(specta::Type))]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $text)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The code as the window and the logs see it, e.g. `"wrong_credentials"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

error_codes! {
    // Starting the till.
    /// The configuration file or environment is invalid.
    ConfigInvalid = "config_invalid",
    /// The data folder cannot be created or written.
    DataDirUnusable = "data_dir_unusable",
    /// The till's own store failed (or a task holding it failed).
    StoreUnavailable = "store_unavailable",
    /// The configured server address is not a usable URL.
    InvalidServerUrl = "invalid_server_url",

    // Signing in and the offline grant.
    ServerUnreachable = "server_unreachable",
    WrongCredentials = "wrong_credentials",
    RateLimited = "rate_limited",
    DeviceRevoked = "device_revoked",
    OtherOrganisation = "other_organisation",
    /// The server answered something the till cannot use.
    ServerError = "server_error",
    GrantInvalid = "grant_invalid",
    KeyringUnavailable = "keyring_unavailable",
    KeyringFailed = "keyring_failed",
    IdentityUnavailable = "identity_unavailable",
    NotSignedIn = "not_signed_in",
    NotKnownOffline = "not_known_offline",
    /// Too many wrong offline passwords: wait before the next try.
    BackingOff = "backing_off",
    GrantExpired = "grant_expired",
    GrantRevoked = "grant_revoked",
    ClockLocked = "clock_locked",
    /// The signed-in person lacks the permission the action needs.
    Forbidden = "forbidden",
    SignedOut = "signed_out",
    UserDisabled = "user_disabled",
    /// Offline, the sale would pass a limit of the person's grant.
    OfflineLimit = "offline_limit",
    /// Records made on this till have not reached the server yet.
    RecordsPending = "records_pending",

    // Selling.
    /// What was typed (a quantity, a price, a discount, a tender) is not acceptable.
    InvalidInput = "invalid_input",
    PaymentShort = "payment_short",
    TillNotOpen = "till_not_open",
    TillAlreadyOpen = "till_already_open",
    /// Closing the till needs the cash counted in every currency.
    CashNotCounted = "cash_not_counted",
    CartEmpty = "cart_empty",
    CartNotEmpty = "cart_not_empty",
    NotRefundable = "not_refundable",
    /// No parked sale or sale has that id.
    NotFound = "not_found",
    UnknownBarcode = "unknown_barcode",
    UnknownProduct = "unknown_product",
    /// A currency or exchange rate the sale needs is not on this till.
    CurrencyUnavailable = "currency_unavailable",

    // Sync.
    NotOnline = "not_online",
    SessionExpired = "session_expired",
    SyncCursorRefused = "sync_cursor_refused",
    PullInProgress = "pull_in_progress",
    PushRefused = "push_refused",
    DeviceKeyUnavailable = "device_key_unavailable",
    NothingToExport = "nothing_to_export",
    ExportFailed = "export_failed",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and logs compare a code with its text: `assert_eq!(err.code(), "forbidden")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn each_code_has_its_own_text_and_serialises_as_it() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} is declared twice");
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
    }
}
