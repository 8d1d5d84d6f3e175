//! relais-store
