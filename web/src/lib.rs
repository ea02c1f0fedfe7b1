//! wgconv in the browser: the crate's own `Conv2d`, `DeviceTensor`, `Trainer` and WGSL on
//! WebGPU, and its f64 CPU reference, exported to the page through wasm-bindgen.
//!
//! The page (web/www) draws; everything computed comes from here. Results cross to JavaScript
//! as JSON strings (a few thousand numbers at most). Every export returns `Result`: an error
//! becomes a JavaScript exception with wgconv's message, never a panic.
//!
//! State lives in thread-locals (a page has one thread): the GPU context, opened once and
//! leaked so that layers and trainers can borrow it for `'static`; the last forward pass (for
//! the hover explanation); the training session.

mod digits;
mod forward;
mod grad;
mod selftest;
mod train;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use wasm_bindgen::prelude::*;
use wgconv::GpuContext;

thread_local! {
    static GPU: RefCell<Option<&'static GpuContext>> = const { RefCell::new(None) };
}

/// The open GPU context, or an error saying the page runs on the CPU reference.
pub(crate) fn gpu() -> Result<&'static GpuContext, JsError> {
    GPU.with(|g| *g.borrow())
        .ok_or_else(|| JsError::new("no WebGPU device is open: the page runs on the CPU reference"))
}

/// `layer`'s y for `x`, on the device. z is kept too: without it the crate binds y in z's slot
/// as well, which WebGPU refuses (two writable bindings of one buffer in a dispatch).
pub(crate) fn forward_y(
    layer: &wgconv::Conv2d,
    x: &wgconv::DeviceTensor,
) -> Result<wgconv::DeviceTensor, JsError> {
    let out = layer
        .forward_with(
            x,
            wgconv::ForwardOptions {
                want_z: true,
                kernel: None,
            },
        )
        .map_err(js)?;
    Ok(out.y)
}

/// Downloads the tensors together: every copy and map is started before any is awaited, so
/// they come back after one wait of the event loop rather than one each.
pub(crate) async fn download_together(
    tensors: &[&wgconv::DeviceTensor],
) -> Result<Vec<Vec<f32>>, JsError> {
    let ctx = gpu()?;
    let mut futures: Vec<Pin<Box<_>>> = tensors
        .iter()
        .map(|t| Box::pin(t.download_async(ctx)))
        .collect();
    let mut outs: Vec<Option<_>> = tensors.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (f, out) in futures.iter_mut().zip(outs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outs.into_iter()
        .map(|o| match o {
            Some(Ok(t)) => Ok(t.data),
            Some(Err(e)) => Err(js(e)),
            None => Err(JsError::new("a download did not finish")),
        })
        .collect()
}

/// A wgconv error as a JavaScript exception.
pub(crate) fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Milliseconds since the epoch (the browser's clock; `std::time` has none on wasm32).
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// How long a GPU submission may take before it counts as hung (readbacks are awaited, so this
/// only bounds native-style waits, which are no-ops on WebGPU).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(serde::Serialize)]
struct AdapterJson {
    name: String,
    backend: String,
    device_type: String,
    driver: String,
    vendor: u32,
    device: u32,
    is_software: bool,
    fused_loop: bool,
    /// Storage buffers one stage of the fused loop binds (the adapter must allow as many).
    fused_loop_storage_buffers: u32,
    max_storage_buffer_binding_size: u64,
    max_compute_workgroup_storage_size: u32,
    max_compute_invocations_per_workgroup: u32,
}

/// Asks the browser for a WebGPU adapter and opens a device with the adapter's own limits,
/// wgconv's kernels compiled each on its first use (the page's first forward pass waits for its
/// own kernel alone; [`compile_kernels`] compiles the rest behind it). Resolves to the adapter
/// as JSON; rejects, saying why, when the browser has no WebGPU or gives no adapter.
#[wasm_bindgen]
pub async fn open_gpu() -> Result<String, JsError> {
    if let Ok(ctx) = gpu() {
        return adapter_json(ctx, None);
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::BROWSER_WEBGPU;
    let instance = wgpu::Instance::new(desc);
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        })
        .await
        .map_err(|e| JsError::new(&format!("the browser gave no WebGPU adapter ({e})")))?;
    let info = adapter.get_info();
    let ctx = GpuContext::from_adapter_async_lazy(adapter, TIMEOUT)
        .await
        .map_err(js)?;
    let ctx: &'static GpuContext = Box::leak(Box::new(ctx));
    GPU.with(|g| *g.borrow_mut() = Some(ctx));
    adapter_json(ctx, Some(info))
}

/// Compiles every kernel not compiled yet (the page calls it once its first GPU maps are drawn).
/// The browser compiles behind the calls already made: this returns at once, and the next GPU
/// work waits for the compiles.
#[wasm_bindgen]
pub fn compile_kernels() -> Result<(), JsError> {
    gpu()?.compile_kernels().map_err(js)
}

/// Whether the context compiles the simple kernels for each layer shape (wgconv's
/// `GpuContext::set_specialize`: the same bits, faster kernels, a compile per shape).
#[wasm_bindgen]
pub fn set_specialize(on: bool) -> Result<(), JsError> {
    gpu()?.set_specialize(on);
    Ok(())
}

/// Whether the rules pick kernel versions for an adapter on CPU cores (wgconv's
/// `GpuContext::set_cpu_rules`): the page sets it for SwiftShader, which the browser's adapter
/// info names but wgpu's does not always flag.
#[wasm_bindgen]
pub fn set_cpu_rules(on: bool) -> Result<(), JsError> {
    gpu()?.set_cpu_rules(on);
    Ok(())
}

pub(crate) fn adapter_json(
    ctx: &GpuContext,
    info: Option<wgpu::AdapterInfo>,
) -> Result<String, JsError> {
    let a = ctx.adapter();
    let l = ctx.key_limits();
    let (vendor, device) = info.map_or((0, 0), |i| (i.vendor, i.device));
    serde_json::to_string(&AdapterJson {
        name: a.name.clone(),
        backend: a.backend.clone(),
        device_type: a.device_type.clone(),
        driver: a.driver.clone(),
        vendor,
        device,
        is_software: a.is_cpu,
        fused_loop: ctx.has_fused_loop(),
        fused_loop_storage_buffers: wgconv::gpu::table::FUSED_LOOP.storage_buffers(),
        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
        max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
        max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
    })
    .map_err(js)
}

/// The notebook's 24×24 image, row-major, in [0, 1].
#[wasm_bindgen]
pub fn notebook_image() -> Vec<f32> {
    wgconv::notebook::image().data
}

/// The notebook's two 5×5 edge filters, (2, 1, 5, 5) row-major.
#[wasm_bindgen]
pub fn notebook_filters() -> Vec<f32> {
    wgconv::notebook::filters().data
}

/// `k` filters of r×r drawn as PyTorch initialises them (uniform in ±1/√(r·r)), from `seed`.
#[wasm_bindgen]
pub fn random_filters(k: usize, r: usize, seed: u64) -> Vec<f32> {
    wgconv::init::random_filters(k, 1, r, r, seed).data
}
