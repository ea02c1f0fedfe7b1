//! The GPU context: instance, adapter, device and queue, built once; every wgpu error becomes
//! a typed [`Error`].

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result, SOFTWARE_ADAPTER_HINT};
use crate::gpu::kernel::Kernels;

/// Which adapter to open. [`AdapterRequest::from_env`] reads `WGPU_BACKEND` and
/// `WGPU_ADAPTER_NAME`; command-line flags then override those fields.
#[derive(Debug, Clone)]
pub struct AdapterRequest {
    /// Comma-separated backends (vulkan, metal, dx12, gl); None = all.
    pub backends: Option<String>,
    /// Case-insensitive substring of the adapter's name; None = the best ranked.
    pub adapter_name: Option<String>,
    /// Refuse CPU/software adapters (lavapipe, llvmpipe, WARP, SwiftShader).
    pub require_gpu: bool,
    /// Longest wait for one GPU submission before giving up with [`Error::Timeout`].
    pub timeout: Duration,
}

impl Default for AdapterRequest {
    fn default() -> Self {
        AdapterRequest {
            backends: None,
            adapter_name: None,
            require_gpu: false,
            timeout: Duration::from_secs(120),
        }
    }
}

impl AdapterRequest {
    /// The defaults, with `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` applied when set.
    pub fn from_env() -> Self {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        AdapterRequest {
            backends: var("WGPU_BACKEND"),
            adapter_name: var("WGPU_ADAPTER_NAME"),
            ..Default::default()
        }
    }
}

/// Parses "vulkan,gl" and the like; unknown names are an error, not silently dropped.
pub fn parse_backends(list: Option<&str>) -> Result<wgpu::Backends> {
    let Some(list) = list else {
        return Ok(wgpu::Backends::all());
    };
    let mut out = wgpu::Backends::empty();
    for name in list.split(',').map(|s| s.trim().to_lowercase()) {
        out |= match name.as_str() {
            "vulkan" | "vk" => wgpu::Backends::VULKAN,
            "metal" | "mtl" => wgpu::Backends::METAL,
            "dx12" | "d3d12" => wgpu::Backends::DX12,
            "gl" | "gles" | "opengl" => wgpu::Backends::GL,
            "primary" => wgpu::Backends::PRIMARY,
            "all" => wgpu::Backends::all(),
            _ => return Err(Error::UnknownBackend(name)),
        };
    }
    Ok(out)
}

/// One adapter, as `wgconv info` prints it.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub is_cpu: bool,
}

impl AdapterSummary {
    fn of(info: &wgpu::AdapterInfo) -> Self {
        AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            is_cpu: is_software(info),
        }
    }
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {}, driver: {})",
            self.name,
            self.backend,
            self.device_type,
            if self.driver.is_empty() {
                "?"
            } else {
                &self.driver
            }
        )
    }
}

/// CPU adapters report DeviceType::Cpu; some GL drivers don't, so the name is checked too.
fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let name = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || [
            "llvmpipe",
            "lavapipe",
            "softpipe",
            "swiftshader",
            "warp",
            "basic render",
        ]
        .iter()
        .any(|s| name.contains(s))
}

/// Preference order: discrete, integrated, virtual, other, CPU; then native APIs before GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        _ if is_software(info) => 4,
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = u8::from(info.backend == wgpu::Backend::Gl);
    (device, backend)
}

fn new_instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

/// Every adapter on the requested backends, best ranked first.
pub fn list_adapters(request: &AdapterRequest) -> Result<Vec<AdapterSummary>> {
    let backends = parse_backends(request.backends.as_deref())?;
    let instance = new_instance(backends);
    let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
    adapters.sort_by_key(|a| rank(&a.get_info()));
    Ok(adapters
        .iter()
        .map(|a| AdapterSummary::of(&a.get_info()))
        .collect())
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

/// An open device with its compiled kernels. Build it once and reuse it.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    adapter: AdapterSummary,
    features: wgpu::Features,
    timeout: Duration,
    /// Largest buffer one binding may hold; below the device's limit only in tests.
    binding_cap: u64,
    /// Errors no scope caught (reported instead of wgpu's default panic).
    uncaught: Arc<Mutex<Vec<String>>>,
    pub(crate) kernels: Kernels,
}

impl GpuContext {
    /// Picks an adapter, opens a device with the adapter's own limits (not wgpu's defaults),
    /// and compiles the kernels.
    pub fn new(request: &AdapterRequest) -> Result<Self> {
        let backends = parse_backends(request.backends.as_deref())?;
        // Native APIs first: OpenGL ranks last anyway, and probing it on a headless machine is
        // slow and noisy. GL is enumerated only when nothing else fits the request.
        let native = backends - wgpu::Backends::GL;
        let fits = |adapters: &[wgpu::Adapter]| match &request.adapter_name {
            Some(name) => adapters.iter().any(|a| {
                a.get_info()
                    .name
                    .to_lowercase()
                    .contains(&name.to_lowercase())
            }),
            None => !adapters.is_empty(),
        };
        let mut adapters = if native.is_empty() {
            Vec::new()
        } else {
            pollster::block_on(new_instance(native).enumerate_adapters(native))
        };
        if !fits(&adapters) && backends.contains(wgpu::Backends::GL) {
            adapters = pollster::block_on(new_instance(backends).enumerate_adapters(backends));
        }
        adapters.sort_by_key(|a| rank(&a.get_info()));
        let describe_all = |adapters: &[wgpu::Adapter]| {
            let names: Vec<String> = adapters
                .iter()
                .map(|a| AdapterSummary::of(&a.get_info()).to_string())
                .collect();
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join("; ")
            }
        };
        if adapters.is_empty() {
            return Err(Error::NoAdapter {
                backends: format!("{backends:?}"),
                hint: SOFTWARE_ADAPTER_HINT,
            });
        }
        let chosen = match &request.adapter_name {
            Some(wanted) => {
                let lower = wanted.to_lowercase();
                let pos = adapters
                    .iter()
                    .position(|a| a.get_info().name.to_lowercase().contains(&lower));
                match pos {
                    Some(i) => adapters.swap_remove(i),
                    None => {
                        return Err(Error::AdapterNotFound {
                            wanted: wanted.clone(),
                            available: describe_all(&adapters),
                        })
                    }
                }
            }
            None => adapters.swap_remove(0),
        };
        let info = chosen.get_info();
        if request.require_gpu && is_software(&info) {
            return Err(Error::CpuAdapterRefused {
                name: info.name,
                backend: format!("{:?}", info.backend),
            });
        }
        Self::open(chosen, request.timeout)
    }

    fn open(adapter: wgpu::Adapter, timeout: Duration) -> Result<Self> {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wgconv device"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::RequestDevice {
            adapter: info.name.clone(),
            message: e.to_string(),
        })?;
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
        let kernels = catch(&device, "compiling the kernels", || {
            Kernels::new(&device, &limits)
        })?;
        Ok(GpuContext {
            kernels,
            device,
            queue,
            limits,
            adapter: AdapterSummary::of(&info),
            features,
            timeout,
            binding_cap,
            uncaught,
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
        const U32_INDEX_BYTES: u64 = (1 << 32) - 4;
        if U32_INDEX_BYTES < best.0 {
            best = (U32_INDEX_BYTES, "u32 index range of the kernels");
        }
        if self.binding_cap < best.0 {
            best = (self.binding_cap, "binding cap (set_binding_cap)");
        }
        best
    }

    /// Lowers the per-binding cap below the device's limit, so that batch splitting can be
    /// exercised with small tensors. Values above the device's limit are ignored.
    pub fn set_binding_cap(&mut self, bytes: u64) {
        let device_cap = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        self.binding_cap = bytes.clamp(4, device_cap);
    }

    /// Runs `f` inside validation, out-of-memory and internal error scopes and turns whatever
    /// they caught (or what no scope caught) into an [`Error`] naming `stage`.
    pub(crate) fn scoped<T>(&self, stage: &'static str, f: impl FnOnce() -> T) -> Result<T> {
        let out = catch(&self.device, stage, f)?;
        self.take_uncaught(stage)?;
        Ok(out)
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

    /// Waits for `submission` to finish, at most the context's timeout.
    pub(crate) fn wait(
        &self,
        submission: wgpu::SubmissionIndex,
        stage: &'static str,
    ) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
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

    /// Maps a MAP_READ buffer (after its copy was submitted) and returns its f32 contents.
    pub(crate) fn read_f32(&self, buffer: &wgpu::Buffer, stage: &'static str) -> Result<Vec<f32>> {
        let (tx, rx) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
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
        let mapped = rx.recv_timeout(self.timeout).map_err(|_| Error::Timeout {
            stage,
            seconds: self.timeout.as_secs_f64(),
        })?;
        mapped.map_err(|e| Error::Readback {
            stage,
            message: e.to_string(),
        })?;
        let data = {
            let view = buffer.get_mapped_range(..).map_err(|e| Error::Readback {
                stage,
                message: e.to_string(),
            })?;
            bytemuck::pod_collect_to_vec::<u8, f32>(&view)
        };
        buffer.unmap();
        Ok(data)
    }
}

/// Runs `f` inside validation, out-of-memory and internal error scopes on `device`.
fn catch<T>(device: &wgpu::Device, stage: &'static str, f: impl FnOnce() -> T) -> Result<T> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    let validation = pollster::block_on(validation.pop());
    let internal = pollster::block_on(internal.pop());
    let oom = pollster::block_on(oom.pop());
    if oom.is_some() {
        return Err(Error::OutOfMemory { stage });
    }
    if let Some(e) = validation {
        return Err(Error::Validation {
            stage,
            message: e.to_string(),
        });
    }
    if let Some(e) = internal {
        return Err(Error::Internal {
            stage,
            message: e.to_string(),
        });
    }
    Ok(out)
}
