//! relais-plugin-sdk
