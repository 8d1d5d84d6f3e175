//! Native tests through the SDK's fake host: request shapes, error
//! mapping and the no-op rules.

mod docs;
mod failures;
mod inspect;
mod manage;
mod ssl;
mod support;
mod tls;
