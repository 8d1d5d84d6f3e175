//! Each vendor connector against its vendor's contract.
//!
//! Needs `scripts/build-plugins.sh` (the plugins) and Node.js (the mocks).

mod cpanel;
mod email;
mod paypal;
mod plesk;
mod slack;
mod stripe;
mod twilio;
