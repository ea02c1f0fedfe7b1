//! The GPU context: instance, adapter, device and queue, built once; every wgpu error becomes
//! a typed [`Error`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::adapter::{choose_adapter, AdapterRequest, AdapterSummary};
use crate::gpu::kernel::Kernels;
use crate::gpu::memory::{self, GpuBuffer, Ledger, MemoryUse};

mod handle;
mod limits;

pub use limits::{ensure_within_binding_range, KeyLimits, MAX_BINDING_BYTES};
mod read;
mod read_async;
mod scopes;

use scopes::catch;
#[cfg(target_arch = "wasm32")]
use scopes::{catch_later, PendingScope};

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
    /// The simple kernels compiled per shape (`gpu::specialize`).
    pub(crate) specialised: crate::gpu::specialize::Specialised,
    /// Versions chosen by measuring (`gpu::tune`).
    pub(crate) tuning: crate::gpu::tune::Tuning,
    /// Whether the rules pick versions for an adapter on CPU cores (`gpu::versions`).
    pub(crate) cpu_rules: std::sync::atomic::AtomicBool,
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
        Self::with_device(&info, limits, features, opened, timeout, false, stage)
    }

    /// Opens a device on `adapter` without blocking: the way in a browser (WebGPU), where the
    /// adapter comes from `wgpu::Instance::request_adapter` and nothing may wait on a future.
    /// Same limits, features and kernels as [`GpuContext::new`].
    pub async fn from_adapter_async(adapter: wgpu::Adapter, timeout: Duration) -> Result<Self> {
        Self::from_adapter_async_with(adapter, timeout, false).await
    }

    /// [`GpuContext::from_adapter_async`] without compiling the kernels: each is compiled on its
    /// first use (its compile errors reported by the op that uses it), or all by
    /// [`GpuContext::compile_kernels`]. For a page that wants its first result before every
    /// kernel is compiled (a browser compiles in order: the first op waits behind every compile
    /// started before it). Same limits, features and kernels otherwise.
    pub async fn from_adapter_async_lazy(
        adapter: wgpu::Adapter,
        timeout: Duration,
    ) -> Result<Self> {
        Self::from_adapter_async_with(adapter, timeout, true).await
    }

    async fn from_adapter_async_with(
        adapter: wgpu::Adapter,
        timeout: Duration,
        lazy: bool,
    ) -> Result<Self> {
        let opened = request_device(&adapter).await?;
        let (info, limits, features) = (adapter.get_info(), adapter.limits(), adapter.features());
        Self::with_device(&info, limits, features, opened, timeout, lazy, |_| {})
    }

    /// Compiles every kernel not compiled yet (all are, unless the context was opened with
    /// [`GpuContext::from_adapter_async_lazy`]).
    pub fn compile_kernels(&self) -> Result<()> {
        self.scoped("compiling the kernels", || self.kernels.compile_all())
    }

    /// The context around a device just opened (on an adapter of `info`, with `limits` and
    /// `features`): error sinks, kernels (compiled now unless `lazy`).
    #[allow(clippy::too_many_arguments)]
    fn with_device(
        info: &wgpu::AdapterInfo,
        limits: wgpu::Limits,
        features: wgpu::Features,
        (device, queue): (wgpu::Device, wgpu::Queue),
        timeout: Duration,
        lazy: bool,
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
        let kernels = Kernels::new(&device, &limits);
        if !lazy {
            stage("compiling the kernels");
            catch(&device, "compiling the kernels", || kernels.compile_all())?;
        }
        let adapter = AdapterSummary::of(info);
        let inner = ContextInner {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            kernels,
            specialised: crate::gpu::specialize::Specialised::new(),
            tuning: Default::default(),
            cpu_rules: adapter.is_cpu.into(),
            device,
            queue,
            limits,
            adapter,
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
