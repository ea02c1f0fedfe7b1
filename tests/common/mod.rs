//! Shared by the integration tests: one GPU context per test binary.
#![allow(dead_code)]

use std::sync::OnceLock;

use wgconv::{AdapterRequest, GpuContext};

/// The context every GPU test uses: the adapter `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` select.
/// There is no skipping: with no adapter the test fails and says how to get one.
pub fn gpu() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::new(&AdapterRequest::from_env()) {
        Ok(ctx) => {
            eprintln!("GPU tests run on: {}", ctx.adapter());
            ctx
        }
        Err(e) => panic!("these tests need a GPU adapter and none could be opened: {e}"),
    })
}
