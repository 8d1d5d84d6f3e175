//! relais-workflow
