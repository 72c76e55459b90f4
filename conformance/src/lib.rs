//! Conformance harness (skeleton).
