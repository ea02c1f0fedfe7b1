//! Choosing an adapter: the request (backends, name, GPU only), the ranking, and the listing
//! `wgconv info` prints.

use std::time::Duration;

use crate::error::{Error, Result, SOFTWARE_ADAPTER_HINT};

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
    /// Longest wait for opening the device and the kernels' first compile (see
    /// [`GpuContext::warm_up`](crate::GpuContext::warm_up)): on a driver's first run, e.g.
    /// OpenGL on llvmpipe with a cold shader cache, that takes minutes. wgconv's CLI enforces
    /// it; the library records it for callers that open the device on a thread of their own.
    pub compile_timeout: Duration,
}

impl Default for AdapterRequest {
    fn default() -> Self {
        AdapterRequest {
            backends: None,
            adapter_name: None,
            require_gpu: false,
            timeout: Duration::from_secs(120),
            compile_timeout: Duration::from_secs(900),
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
    pub(crate) fn of(info: &wgpu::AdapterInfo) -> Self {
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

/// The adapter `request` asks for: the best ranked one, or the one whose name matches.
pub(crate) fn choose_adapter(request: &AdapterRequest) -> Result<wgpu::Adapter> {
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
    Ok(chosen)
}
