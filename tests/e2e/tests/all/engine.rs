//! End-to-end tests of the engine through the binary.
