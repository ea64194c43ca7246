//! Controller core tests.
