//! `cpanel`: cPanel & WHM hosting accounts from workflows, through WHM API
//! 1 (`https://HOST:2087/json-api/FUNCTION?api.version=1`, header
//! `Authorization: whm USER:TOKEN`), and cPanel UAPI run through WHM's
//! `uapi_cpanel` where WHM has no call of its own (usage figures, SSL).
//!
//! ```yaml
//! - id: suspend
//!   uses: cpanel/suspend-account
//!   with:
//!     connection: { url: whm.example.net, token_secret: whm_api_token }
//!     user: "{{ steps.customer.output.metadata.cpanel_user }}"
//!     reason: Unpaid invoice
//!   secrets: [whm_api_token]
//! ```
//!
//! Every step takes the same `connection` block (see [`Connection`]).
//! Steps that change an account read it first and report `changed: false`
//! when it is already as asked, so a workflow can be re-run safely.
//!
//! Errors: WHM's `metadata.result: 0` becomes `invalid-input` when its
//! reason says a value was refused, `retryable` when the server is busy or
//! locked, `fatal` otherwise (missing account, refused permission); refused
//! credentials (HTTP 401/403) are `fatal`; 5xx, 429, timeouts and
//! connection errors are `retryable`. See `README.md` for every step.

mod account;
mod error;
mod inspect;
mod manage;
mod ssl;
mod units;
mod whm;

pub use account::Account;
pub use error::WhmError;
pub use inspect::{
    Limit, ListIn, ListOut, Package, PackagesIn, PackagesOut, SummaryIn, SummaryOut, TestIn,
    TestOut, Usage,
};
pub use manage::{
    ChangePackageIn, ChangePackageOut, ChangePasswordIn, ChangePasswordOut, CreateIn, CreateOut,
    SuspendIn, SuspensionOut, TerminateIn, TerminateOut, UnsuspendIn,
};
pub use ssl::{Certificate, DomainSsl, SslIn, SslOut};
pub use whm::Connection;

relais_plugin_sdk::plugin! {
    name: "cpanel",
    version: env!("CARGO_PKG_VERSION"),
    description: "cPanel & WHM hosting accounts: create, suspend, unsuspend, terminate, packages, passwords, usage and SSL status",
    steps: {
        "create-account" => manage::create_account:
            "Create a cPanel account (no change when it already exists with the same domain)",
        "suspend-account" => manage::suspend_account:
            "Suspend an account, with a reason (no change when already suspended)",
        "unsuspend-account" => manage::unsuspend_account:
            "Unsuspend an account (no change when not suspended)",
        "terminate-account" => manage::terminate_account:
            "Terminate an account, optionally keeping its DNS zone (no change when it does not exist)",
        "change-package" => manage::change_package:
            "Move an account to another hosting package (no change when it already has it)",
        "change-password" => manage::change_password:
            "Set an account's password from a secret",
        "list-accounts" => inspect::list_accounts:
            "List accounts, filtered by suspension, domain and owner",
        "account-summary" => inspect::account_summary:
            "An account with its disk and bandwidth use against its limits",
        "list-packages" => inspect::list_packages:
            "List the hosting packages and their limits",
        "ssl-status" => ssl::ssl_status:
            "Each domain of an account with its certificate issuer and expiry and its AutoSSL state",
        "test-connection" => inspect::test_connection:
            "Check the address, the certificate and the API token",
    },
}

#[cfg(test)]
mod tests;
