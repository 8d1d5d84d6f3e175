//! Host memory a guest can hold through resource handles (`wasi:http`
//! header maps, requests, bodies, streams, pollables), and its caps.
//!
//! Three bounds hold per invocation: at most `limits.handles` handles at
//! once (the resource table's capacity), at most `limits.header_bytes` in
//! one header map, and at most `limits.host_bytes` of header maps in all
//! (measured at every epoch tick, a typed `host-memory` limit past it). An
//! outgoing body buffers at most two chunks of [`OUTGOING_BODY_CHUNK`]
//! bytes until it is sent, so the worst case stays within
//! `handles × max(header_bytes, 2 × OUTGOING_BODY_CHUNK)`.

use wasmtime::component::{ResourceTable, ResourceTableError};
use wasmtime_wasi_http::p2::types::{
    HostIncomingResponse, HostOutgoingRequest, HostOutgoingResponse,
};
use wasmtime_wasi_http::{FieldMap, FieldMapError, WasiHttpCtx};

use crate::limits::Limits;

/// Largest chunk a guest may write to an outgoing body at once; an unsent
/// body holds at most two.
pub(crate) const OUTGOING_BODY_CHUNK: usize = 16 << 10;

/// The resource table of one invocation, capped at `limits.handles`.
pub(crate) fn table(limits: &Limits) -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(usize::try_from(limits.handles).unwrap_or(usize::MAX));
    table
}

/// The `wasi:http` context of one invocation: header maps capped at
/// `limits.header_bytes`.
pub(crate) fn http_ctx(limits: &Limits) -> WasiHttpCtx {
    let mut ctx = WasiHttpCtx::new();
    ctx.set_field_size_limit(limits.header_bytes);
    ctx
}

/// Bytes of a header map, as `wasi:http` accounts them: each name and
/// value costs its length plus the size of its host record.
fn header_bytes(map: &http::HeaderMap) -> u64 {
    let names: usize = map
        .keys()
        .map(|k| k.as_str().len() + size_of::<http::HeaderName>())
        .sum();
    let values: usize = map
        .values()
        .map(|v| v.len() + size_of::<http::HeaderValue>())
        .sum();
    u64::try_from(names + values).unwrap_or(u64::MAX)
}

/// Host bytes held by the header maps in `table` (free-standing, or inside
/// requests and responses).
pub(crate) fn held_bytes(table: &mut ResourceTable) -> u64 {
    let mut total = 0u64;
    for entry in table.iter_mut() {
        let entry: &(dyn std::any::Any + Send) = entry;
        let map = if let Some(f) = entry.downcast_ref::<FieldMap>() {
            f
        } else if let Some(r) = entry.downcast_ref::<HostOutgoingRequest>() {
            &r.headers
        } else if let Some(r) = entry.downcast_ref::<HostOutgoingResponse>() {
            &r.headers
        } else if let Some(r) = entry.downcast_ref::<HostIncomingResponse>() {
            &r.headers
        } else {
            continue;
        };
        total = total.saturating_add(header_bytes(map));
    }
    total
}

/// Whether `err` is the resource table refusing a new handle.
pub(crate) fn table_full(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<ResourceTableError>(),
            Some(ResourceTableError::Full)
        ) || e
            .to_string()
            .contains(&ResourceTableError::Full.to_string())
    })
}

/// Whether `err` is `wasi:http` refusing a header map past `header_bytes`.
pub(crate) fn header_map_full(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<FieldMapError>(),
            Some(FieldMapError::TotalSizeTooBig)
        ) || e.to_string().contains("total size of fields exceeds limit")
    })
}
