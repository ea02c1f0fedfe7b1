//! Random-shape GPU-vs-CPU checking, shared by `wgconv check` and the tests.
