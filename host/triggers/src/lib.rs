//! relais-triggers
