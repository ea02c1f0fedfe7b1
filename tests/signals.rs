//! The signal tests: see the next commit.
