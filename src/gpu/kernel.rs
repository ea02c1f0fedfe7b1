//! A compiled compute kernel: its bind group layout and pipeline, built from a WGSL file.

/// How a kernel reads one of its bindings (binding i is the i-th entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// One WGSL kernel: entry point `main`, bindings 0..n of group 0.
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    layout: wgpu::BindGroupLayout,
    pub(crate) pipeline: wgpu::ComputePipeline,
}

impl Kernel {
    pub(crate) fn new(
        device: &wgpu::Device,
        name: &'static str,
        source: &'static str,
        bindings: &[Access],
    ) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .enumerate()
            .map(|(i, access)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match access {
                        Access::Uniform => wgpu::BufferBindingType::Uniform,
                        Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(name),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(name),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Kernel {
            name,
            layout,
            pipeline,
        }
    }

    /// A bind group with `buffers[i]` at binding i.
    pub(crate) fn bind(&self, device: &wgpu::Device, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.name),
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Records one dispatch of this kernel.
    pub(crate) fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        grid: (u32, u32, u32),
    ) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(grid.0, grid.1, grid.2);
    }
}

/// The WGSL sources, embedded so that the library, CLI and tests run the same bytes.
pub mod sources {
    pub use crate::gpu::forward::CONV2D_BIAS_RELU_FWD_WGSL;
    pub const CONV2D_BIAS_RELU_FWD_TILED_WGSL: &str =
        include_str!("../../shaders/conv2d_bias_relu_fwd_tiled.wgsl");
    pub const LOSS_MSE_RELU_BWD_WGSL: &str = include_str!("../../shaders/loss_mse_relu_bwd.wgsl");
    pub const LOSS_REDUCE_WGSL: &str = include_str!("../../shaders/loss_reduce.wgsl");
    pub const CONV2D_BWD_WEIGHT_WGSL: &str = include_str!("../../shaders/conv2d_bwd_weight.wgsl");
    pub const CONV2D_BWD_INPUT_WGSL: &str = include_str!("../../shaders/conv2d_bwd_input.wgsl");
    pub const SGD_UPDATE_WGSL: &str = include_str!("../../shaders/sgd_update.wgsl");
    pub const TRAIN_TINY_WGSL: &str = include_str!("../../shaders/train_tiny.wgsl");
    pub const CONV2D_BWD_WEIGHT_TILED_WGSL: &str =
        include_str!("../../shaders/conv2d_bwd_weight_tiled.wgsl");
    pub const CONV2D_BWD_WEIGHT_REDUCE_WGSL: &str =
        include_str!("../../shaders/conv2d_bwd_weight_reduce.wgsl");
    pub const CONV2D_BWD_INPUT_TILED_WGSL: &str =
        include_str!("../../shaders/conv2d_bwd_input_tiled.wgsl");
}

/// Every kernel of the crate, compiled once per context.
pub(crate) struct Kernels {
    pub(crate) forward: Kernel,
    pub(crate) forward_tiled: Kernel,
    pub(crate) loss: Kernel,
    pub(crate) loss_reduce: Kernel,
    pub(crate) bwd_weight: Kernel,
    pub(crate) bwd_input: Kernel,
    pub(crate) bwd_weight_tiled: Kernel,
    pub(crate) bwd_weight_reduce: Kernel,
    pub(crate) bwd_input_tiled: Kernel,
    pub(crate) sgd: Kernel,
    /// The fused loop for tiny layers; None where the device binds fewer than 11 storage
    /// buffers per stage.
    pub(crate) train_tiny: Option<Kernel>,
}

/// Storage buffers `train_tiny.wgsl` binds.
pub(crate) const TRAIN_TINY_STORAGE_BUFFERS: u32 = 11;

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Self {
        use sources::*;
        use Access::*;
        let tiny_fits = limits.max_storage_buffers_per_shader_stage >= TRAIN_TINY_STORAGE_BUFFERS
            && limits.max_compute_workgroup_storage_size >= 24 * 1024
            && limits.max_compute_invocations_per_workgroup >= 256;
        Kernels {
            train_tiny: tiny_fits.then(|| {
                let mut bindings = vec![Uniform, Read, Read];
                bindings.extend([ReadWrite; 9]);
                Kernel::new(device, "train_tiny", TRAIN_TINY_WGSL, &bindings)
            }),
            forward: Kernel::new(
                device,
                "conv2d_bias_relu_fwd",
                CONV2D_BIAS_RELU_FWD_WGSL,
                &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
            ),
            forward_tiled: Kernel::new(
                device,
                "conv2d_bias_relu_fwd_tiled",
                CONV2D_BIAS_RELU_FWD_TILED_WGSL,
                &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
            ),
            loss: Kernel::new(
                device,
                "loss_mse_relu_bwd",
                LOSS_MSE_RELU_BWD_WGSL,
                &[Uniform, Read, Read, ReadWrite, ReadWrite],
            ),
            loss_reduce: Kernel::new(
                device,
                "loss_reduce",
                LOSS_REDUCE_WGSL,
                &[Uniform, Read, ReadWrite],
            ),
            bwd_weight: Kernel::new(
                device,
                "conv2d_bwd_weight",
                CONV2D_BWD_WEIGHT_WGSL,
                &[Uniform, Read, Read, ReadWrite, ReadWrite],
            ),
            bwd_input: Kernel::new(
                device,
                "conv2d_bwd_input",
                CONV2D_BWD_INPUT_WGSL,
                &[Uniform, Read, Read, ReadWrite],
            ),
            bwd_weight_tiled: Kernel::new(
                device,
                "conv2d_bwd_weight_tiled",
                CONV2D_BWD_WEIGHT_TILED_WGSL,
                &[Uniform, Read, Read, ReadWrite],
            ),
            bwd_weight_reduce: Kernel::new(
                device,
                "conv2d_bwd_weight_reduce",
                CONV2D_BWD_WEIGHT_REDUCE_WGSL,
                &[Uniform, Read, ReadWrite, ReadWrite],
            ),
            bwd_input_tiled: Kernel::new(
                device,
                "conv2d_bwd_input_tiled",
                CONV2D_BWD_INPUT_TILED_WGSL,
                &[Uniform, Read, Read, ReadWrite],
            ),
            sgd: Kernel::new(
                device,
                "sgd_update",
                SGD_UPDATE_WGSL,
                &[Uniform, ReadWrite, Read, ReadWrite],
            ),
        }
    }
}

/// Which implementation of a pass to run. Every version computes the same sums and is held to
/// the same bounds; they differ only in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelVersion {
    /// One output per invocation, no workgroup memory: the always-correct baseline.
    Simple,
    /// Implicit GEMM with 64×64 workgroup-memory tiles and 4×4 register blocking.
    Tiled,
}

impl KernelVersion {
    pub const ALL: [KernelVersion; 2] = [KernelVersion::Simple, KernelVersion::Tiled];

    /// The name `--kernel` takes.
    pub fn name(self) -> &'static str {
        match self {
            KernelVersion::Simple => "simple",
            KernelVersion::Tiled => "tiled",
        }
    }

    /// Parses `--kernel`'s value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}
