//! Native tests through the SDK's fake host: request shapes, error
//! mapping and the no-op rules.

mod clients;
mod docs;
mod failures;
mod subscriptions;
mod support;
mod tls;
