//! The GPU context: instance, adapter, device and queue, built once; every wgpu error becomes
//! a typed [`Error`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::adapter::{choose_adapter, AdapterRequest, AdapterSummary};
use crate::gpu::kernel::Kernels;
use crate::gpu::memory::{self, GpuBuffer, Ledger, MemoryUse};

mod read_async;
mod scopes;

use scopes::catch;
#[cfg(target_arch = "wasm32")]
use scopes::{catch_later, PendingScope};

/// The most bytes one binding may hold on any device: the kernels index in u32 (4 GiB − 4). A
/// tensor over it is refused whatever the adapter, so this can be checked before opening one.
pub const MAX_BINDING_BYTES: u64 = (1 << 32) - 4;

/// Refuses `what` when `bytes` (None: past 64 bits) exceed [`MAX_BINDING_BYTES`].
pub fn ensure_within_binding_range(
    what: impl FnOnce() -> String,
    bytes: Option<u64>,
) -> Result<()> {
    match bytes {
        Some(b) if b <= MAX_BINDING_BYTES => Ok(()),
        _ => Err(Error::LimitExceeded {
            what: what(),
            limit: "u32 index range of the kernels",
            needed: bytes.unwrap_or(u64::MAX),
            max: MAX_BINDING_BYTES,
        }),
    }
}

/// The device's limits that matter here, for `wgconv info` and error messages.
#[derive(Debug, Clone, Copy)]
pub struct KeyLimits {
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_storage_buffers_per_shader_stage: u32,
    pub timestamp_query: bool,
}

/// An open device with its compiled kernels. Build it once and reuse it: it is a handle, cheap
/// to clone (as wgpu's device and queue are), and every clone is the same context. Layers and
/// tensors hold a clone, so a model can live in a struct beside its context and move to
/// another thread; a tensor used with a context it was not made on is refused.
///
/// ```
/// use wgconv::{AdapterRequest, DeviceTensor, GpuContext, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let x = DeviceTensor::upload(&ctx, "x", &Tensor4::new("x", [1, 1, 2, 2], vec![1., 2., 3., 4.])?)?;
/// let same = ctx.clone();
/// assert_eq!(x.download(&same)?.data, [1., 2., 3., 4.]);
/// // Another context cannot read it.
/// let other = GpuContext::new(&AdapterRequest::from_env())?;
/// assert!(x.download(&other).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GpuContext {
    inner: Arc<ContextInner>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("id", &self.inner.id)
            .field("adapter", &self.inner.adapter.name)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for GpuContext {
    type Target = ContextInner;
    fn deref(&self) -> &ContextInner {
        &self.inner
    }
}

/// Every context gets its own number, so a tensor knows which one made it.
static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What a [`GpuContext`] holds; reached through it.
pub struct ContextInner {
    /// This context's number (see [`GpuContext::same_as`]).
    id: u64,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    adapter: AdapterSummary,
    features: wgpu::Features,
    timeout: Duration,
    /// Largest buffer one binding may hold; below the device's limit only in tests.
    binding_cap: AtomicU64,
    /// Errors no scope caught (reported instead of wgpu's default panic).
    uncaught: Arc<Mutex<Vec<String>>>,
    /// Live buffers the crate created.
    ledger: Arc<Ledger>,
    /// In a browser: the outcomes of error scopes popped but not yet known (a browser answers
    /// a pop only from its event loop), awaited and reported by the async readers.
    #[cfg(target_arch = "wasm32")]
    pending_scopes: std::cell::RefCell<Vec<PendingScope>>,
    pub(crate) kernels: Kernels,
    /// The timer [`GpuContext::time_ops`] arms for the ops' passes.
    pub(crate) op_timer: crate::gpu::op_timer::TimerSlot,
}

impl GpuContext {
    /// Picks an adapter, opens a device with the adapter's own limits (not wgpu's defaults),
    /// and compiles the kernels.
    pub fn new(request: &AdapterRequest) -> Result<Self> {
        Self::new_reporting(request, |_| {})
    }

    /// [`GpuContext::new`], naming each stage to `stage` as it starts: "finding an adapter",
    /// "opening the device", "compiling the kernels" (the slow one on a driver's first run).
    /// Opening a device has no timeout of its own: a caller that needs one runs this on a thread.
    pub fn new_reporting(
        request: &AdapterRequest,
        mut stage: impl FnMut(&'static str),
    ) -> Result<Self> {
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Invalid(
                "a browser cannot block while it finds an adapter: open the device with \
                 GpuContext::from_adapter_async"
                    .into(),
            ));
        }
        stage("finding an adapter");
        let chosen = choose_adapter(request)?;
        stage("opening the device");
        Self::open(chosen, request.timeout, stage)
    }

    fn open(
        adapter: wgpu::Adapter,
        timeout: Duration,
        stage: impl FnMut(&'static str),
    ) -> Result<Self> {
        let opened = pollster::block_on(request_device(&adapter))?;
        let (info, limits, features) = (adapter.get_info(), adapter.limits(), adapter.features());
        Self::with_device(&info, limits, features, opened, timeout, stage)
    }

    /// Opens a device on `adapter` without blocking: the way in a browser (WebGPU), where the
    /// adapter comes from `wgpu::Instance::request_adapter` and nothing may wait on a future.
    /// Same limits, features and kernels as [`GpuContext::new`].
    pub async fn from_adapter_async(adapter: wgpu::Adapter, timeout: Duration) -> Result<Self> {
        let opened = request_device(&adapter).await?;
        let (info, limits, features) = (adapter.get_info(), adapter.limits(), adapter.features());
        Self::with_device(&info, limits, features, opened, timeout, |_| {})
    }

    /// The context around a device just opened (on an adapter of `info`, with `limits` and
    /// `features`): error sinks, kernels.
    fn with_device(
        info: &wgpu::AdapterInfo,
        limits: wgpu::Limits,
        features: wgpu::Features,
        (device, queue): (wgpu::Device, wgpu::Queue),
        timeout: Duration,
        mut stage: impl FnMut(&'static str),
    ) -> Result<Self> {
        let features = features & wgpu::Features::TIMESTAMP_QUERY;
        let uncaught = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaught);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let lost = Arc::clone(&uncaught);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut v) = lost.lock() {
                v.push(format!("device lost ({reason:?}): {message}"));
            }
        });
        let binding_cap = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        stage("compiling the kernels");
        let kernels = catch(&device, "compiling the kernels", || {
            Kernels::new(&device, &limits)
        })?;
        let inner = ContextInner {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            kernels,
            device,
            queue,
            limits,
            adapter: AdapterSummary::of(info),
            features,
            timeout,
            binding_cap: AtomicU64::new(binding_cap),
            uncaught,
            ledger: Arc::default(),
            #[cfg(target_arch = "wasm32")]
            pending_scopes: Default::default(),
            op_timer: Default::default(),
        };
        Ok(GpuContext {
            inner: Arc::new(inner),
        })
    }

    /// A context on a device an application already opened: wgconv's kernels compiled on it,
    /// its buffers and dispatches on `queue`. The device's own limits and features apply (with
    /// `TIMESTAMP_QUERY`, GPU times are measured). wgconv installs its handlers for uncaptured
    /// errors and device loss on `device`, so that a GPU error comes back as an [`Error`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use wgconv::{wgpu, GpuContext};
    /// let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    /// let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    /// let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))?;
    /// let ctx = GpuContext::from_device(device, queue)?;
    /// assert!(!ctx.adapter().name.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Result<Self> {
        let timeout = AdapterRequest::default().timeout;
        Self::with_device(
            &device.adapter_info(),
            device.limits(),
            device.features(),
            (device.clone(), queue),
            timeout,
            |_| {},
        )
    }

    /// Whether `other` is this context (a clone of it), not merely one on the same adapter.
    pub fn same_as(&self, other: &GpuContext) -> bool {
        self.inner.id == other.inner.id
    }

    /// The wgpu device, for an application that records its own work beside wgconv's.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue wgconv submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// Bytes the device's memory allocator holds for live resources, where the backend reports
    /// it (Vulkan, DX12, Metal; not OpenGL). Waits for the device to go idle first, so that
    /// resources already dropped are freed.
    pub fn allocator_report(&self) -> Option<u64> {
        let _ = self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(self.timeout),
        });
        self.device
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes)
    }

    /// Buffers the crate created on this device that are still alive, and their bytes: the
    /// memory check that works on every backend, OpenGL included.
    pub fn memory_use(&self) -> MemoryUse {
        self.ledger.now()
    }

    /// A zeroed, counted buffer of at least `size` bytes (rounded up to 16).
    pub(crate) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> GpuBuffer {
        memory::buffer(&self.device, &self.ledger, label, size, usage)
    }

    /// A counted buffer holding `bytes`, zero-padded to a multiple of 16.
    pub(crate) fn buffer_init(
        &self,
        label: &str,
        bytes: &[u8],
        usage: wgpu::BufferUsages,
    ) -> GpuBuffer {
        memory::buffer_init(&self.device, &self.ledger, label, bytes, usage)
    }

    /// Whether this adapter can run the fused loop (enough storage buffers, workgroup memory
    /// and invocations per workgroup).
    pub fn has_fused_loop(&self) -> bool {
        self.kernels.fused_loop.is_some()
    }

    /// The limits that matter for this crate.
    pub fn key_limits(&self) -> KeyLimits {
        let l = &self.limits;
        KeyLimits {
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_buffer_size: l.max_buffer_size,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_storage_buffers_per_shader_stage: l.max_storage_buffers_per_shader_stage,
            timestamp_query: self.features.contains(wgpu::Features::TIMESTAMP_QUERY),
        }
    }

    /// The largest tensor, in bytes, one binding may hold, and the name of the limit that sets
    /// it: the device's binding or buffer limit, the kernels' u32 indexing (4 GiB), or a cap
    /// lowered with [`GpuContext::set_binding_cap`].
    pub fn binding_limit(&self) -> (u64, &'static str) {
        let l = &self.limits;
        let mut best = (
            l.max_storage_buffer_binding_size,
            "max_storage_buffer_binding_size",
        );
        if l.max_buffer_size < best.0 {
            best = (l.max_buffer_size, "max_buffer_size");
        }
        if MAX_BINDING_BYTES < best.0 {
            best = (MAX_BINDING_BYTES, "u32 index range of the kernels");
        }
        let cap = self.binding_cap.load(Ordering::Relaxed);
        if cap < best.0 {
            best = (cap, "binding cap (set_binding_cap)");
        }
        best
    }

    /// Lowers the per-binding cap below the device's limit, so that batch splitting can be
    /// exercised with small tensors. Values above the device's limit are ignored. Every clone
    /// of this context sees the new cap.
    pub fn set_binding_cap(&mut self, bytes: u64) {
        let device_cap = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        self.binding_cap
            .store(bytes.clamp(4, device_cap), Ordering::Relaxed);
    }

    /// Runs `f` inside validation, out-of-memory and internal error scopes and turns whatever
    /// they caught (or what no scope caught) into an [`Error`] naming `stage`.
    pub(crate) fn scoped<T>(&self, stage: &'static str, f: impl FnOnce() -> T) -> Result<T> {
        #[cfg(target_arch = "wasm32")]
        let out = {
            let (out, pending) = catch_later(&self.device, stage, f);
            self.pending_scopes.borrow_mut().push(pending);
            out
        };
        #[cfg(not(target_arch = "wasm32"))]
        let out = catch(&self.device, stage, f)?;
        self.take_uncaught(stage)?;
        Ok(out)
    }

    /// In a browser, awaits the error scopes [`GpuContext::scoped`] left open and returns the
    /// first error they caught; elsewhere scopes are settled where they close and this is a
    /// no-op.
    pub(crate) async fn settle_scopes(&self) -> Result<()> {
        #[cfg(target_arch = "wasm32")]
        {
            let pending = std::mem::take(&mut *self.pending_scopes.borrow_mut());
            let mut first = None;
            for scope in pending {
                if let (Some(e), None) = (scope.await, &first) {
                    first = Some(e);
                }
            }
            if let Some(e) = first {
                return Err(e);
            }
        }
        Ok(())
    }

    fn take_uncaught(&self, stage: &'static str) -> Result<()> {
        let mut errors = self.uncaught.lock().map_err(|_| Error::Internal {
            stage,
            message: "error log poisoned".into(),
        })?;
        if errors.is_empty() {
            return Ok(());
        }
        let message = errors.join("; ");
        errors.clear();
        Err(Error::Internal { stage, message })
    }

    /// Waits for `submission` (or everything submitted, when None) to finish, at most the
    /// context's timeout.
    pub(crate) fn wait_for(
        &self,
        submission: Option<wgpu::SubmissionIndex>,
        stage: &'static str,
    ) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: submission,
                timeout: Some(self.timeout),
            })
            .map_err(|e| match e {
                wgpu::PollError::Timeout => Error::Timeout {
                    stage,
                    seconds: self.timeout.as_secs_f64(),
                },
                other => Error::Internal {
                    stage,
                    message: other.to_string(),
                },
            })?;
        self.take_uncaught(stage)
    }

    /// Waits for `submission` to finish, at most the context's timeout.
    pub(crate) fn wait(
        &self,
        submission: wgpu::SubmissionIndex,
        stage: &'static str,
    ) -> Result<()> {
        self.wait_for(Some(submission), stage)
    }

    /// Copies the first `len` floats of a storage buffer back to the host.
    pub(crate) fn read_back(
        &self,
        buffer: &wgpu::Buffer,
        len: usize,
        stage: &'static str,
    ) -> Result<Vec<f32>> {
        let size = (len as u64 * 4).next_multiple_of(4).max(4);
        let (staging, submission) = self.scoped(stage, || {
            let staging = self.buffer("readback", size, crate::gpu::memory::READBACK);
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
            (staging, self.queue.submit([encoder.finish()]))
        })?;
        self.wait(submission, stage)?;
        let mut data = self.read_f32(&staging, stage)?;
        data.truncate(len);
        Ok(data)
    }

    /// Maps a MAP_READ buffer (after its copy was submitted) and returns its f32 contents.
    pub(crate) fn read_f32(&self, buffer: &wgpu::Buffer, stage: &'static str) -> Result<Vec<f32>> {
        // A browser maps buffers only from its event loop, which a blocking wait never yields to.
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Readback {
                stage,
                message: "a browser cannot wait for a readback: use the async readers".into(),
            });
        }
        let (tx, rx) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.wait_for(None, stage)?;
        let mapped = rx.recv_timeout(self.timeout).map_err(|_| Error::Timeout {
            stage,
            seconds: self.timeout.as_secs_f64(),
        })?;
        mapped_f32(buffer, mapped, stage)
    }
}

/// The f32s of `buffer` once its map completed with `mapped`; unmaps it.
fn mapped_f32(
    buffer: &wgpu::Buffer,
    mapped: std::result::Result<(), wgpu::BufferAsyncError>,
    stage: &'static str,
) -> Result<Vec<f32>> {
    let readback = |e: &dyn std::fmt::Display| Error::Readback {
        stage,
        message: e.to_string(),
    };
    mapped.map_err(|e| readback(&e))?;
    let data = {
        let view = buffer.get_mapped_range(..).map_err(|e| readback(&e))?;
        bytemuck::pod_collect_to_vec::<u8, f32>(&view)
    };
    buffer.unmap();
    Ok(data)
}

/// The device for `adapter` with the adapter's own limits and, where it has them, timestamp
/// queries.
async fn request_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue)> {
    let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
    adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("wgconv device"),
            required_features: features,
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::RequestDevice {
            adapter: adapter.get_info().name,
            message: e.to_string(),
        })
}
