//! A compiled compute kernel (its bind group layout and pipeline, built from its description in
//! `table`) and the set of every kernel, compiled once per context: all at once when the context
//! opens, or each on its first use in a context opened lazily (a browser page that wants its
//! first kernel's result before the others are compiled).

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::gpu::table::{self, Access, KernelDesc};

/// One compiled kernel.
#[derive(Clone)]
pub(crate) struct Kernel {
    pub(crate) desc: &'static KernelDesc,
    layout: wgpu::BindGroupLayout,
    pub(crate) pipeline: wgpu::ComputePipeline,
}

impl Kernel {
    pub(crate) fn new(device: &wgpu::Device, desc: &'static KernelDesc) -> Self {
        Self::compile(device, desc, desc.source())
    }

    /// The kernel of `desc` compiled from `source` (its composed WGSL, or a specialisation of
    /// it, `gpu::specialize`).
    pub(crate) fn compile(
        device: &wgpu::Device,
        desc: &'static KernelDesc,
        source: String,
    ) -> Self {
        let name = desc.name;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let entries: Vec<wgpu::BindGroupLayoutEntry> = desc
            .bindings
            .iter()
            .enumerate()
            .map(|(i, binding)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match binding.access {
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
            desc,
            layout,
            pipeline,
        }
    }

    /// A bind group of `buffers`, each given with the name of its binding in the kernel's table
    /// entry, in any order. Every binding must be named exactly once.
    pub(crate) fn bind(
        &self,
        device: &wgpu::Device,
        buffers: &[(&str, &wgpu::Buffer)],
    ) -> Result<wgpu::BindGroup> {
        let slots =
            binding_slots(self.desc, buffers.iter().map(|(name, _)| *name)).map_err(|message| {
                Error::Internal {
                    stage: "binding buffers",
                    message,
                }
            })?;
        let entries: Vec<wgpu::BindGroupEntry> = slots
            .into_iter()
            .zip(buffers)
            .map(|(binding, (_, buffer))| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        Ok(device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.desc.name),
            layout: &self.layout,
            entries: &entries,
        }))
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

/// The binding number of each of `names`, checked to name every binding of `desc` once.
fn binding_slots<'n>(
    desc: &KernelDesc,
    names: impl ExactSizeIterator<Item = &'n str>,
) -> std::result::Result<Vec<u32>, String> {
    let mut seen = vec![false; desc.bindings.len()];
    let mut slots = Vec::with_capacity(names.len());
    for name in names {
        let slot = desc
            .binding(name)
            .ok_or_else(|| format!("{} has no binding `{name}`", desc.name))?;
        if std::mem::replace(&mut seen[slot as usize], true) {
            return Err(format!("{}: binding `{name}` given twice", desc.name));
        }
        slots.push(slot);
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!(
            "{}: no buffer for binding `{}`",
            desc.name, desc.bindings[missing].name
        ));
    }
    Ok(slots)
}

/// A kernel compiled on first use (or by [`Lazy::compile`]), then kept.
pub(crate) struct Lazy {
    device: wgpu::Device,
    desc: &'static KernelDesc,
    kernel: OnceLock<Kernel>,
}

impl Lazy {
    fn new(device: &wgpu::Device, desc: &'static KernelDesc) -> Self {
        Lazy {
            device: device.clone(),
            desc,
            kernel: OnceLock::new(),
        }
    }

    /// The kernel, compiled now if it was not yet.
    pub(crate) fn compile(&self) -> &Kernel {
        self.kernel
            .get_or_init(|| Kernel::new(&self.device, self.desc))
    }
}

impl std::ops::Deref for Lazy {
    type Target = Kernel;
    fn deref(&self) -> &Kernel {
        self.compile()
    }
}

/// A kernel that reads or writes the bias, with its variant for a layer without bias.
pub(crate) struct WithBias<K = Lazy> {
    with: K,
    without: K,
}

impl<K> WithBias<K> {
    /// The variant for a layer with (`true`) or without a bias.
    pub(crate) fn get(&self, bias: bool) -> &K {
        if bias {
            &self.with
        } else {
            &self.without
        }
    }
}

/// Every kernel of the crate, compiled once per context (each on its first use, or all by
/// [`Kernels::compile_all`]).
pub(crate) struct Kernels {
    pub(crate) forward: WithBias,
    pub(crate) forward_tiled: WithBias,
    pub(crate) forward_window: WithBias,
    pub(crate) forward_window_small: WithBias,
    pub(crate) pack_weights: Lazy,
    pub(crate) pack_weights_small: Lazy,
    pub(crate) pack_input_weights: Lazy,
    pub(crate) pack_output_grad: Lazy,
    pub(crate) pack_input_rows: Lazy,
    pub(crate) pack_output_grad_rows: Lazy,
    pub(crate) loss: Lazy,
    pub(crate) loss_reduce: Lazy,
    pub(crate) bwd_weight: WithBias,
    pub(crate) bwd_input: Lazy,
    pub(crate) bwd_weight_tiled: WithBias,
    pub(crate) bwd_weight_window: WithBias,
    pub(crate) bwd_weight_reduce: WithBias,
    pub(crate) bwd_input_tiled: Lazy,
    pub(crate) bwd_input_window: Lazy,
    pub(crate) bwd_input_fold: Lazy,
    pub(crate) sgd: Lazy,
    pub(crate) relu_bwd: Lazy,
    pub(crate) max_pool_fwd: Lazy,
    pub(crate) max_pool_bwd: Lazy,
    pub(crate) cross_entropy: Lazy,
    pub(crate) loss_mean: Lazy,
    pub(crate) gather_rows: Lazy,
    /// The fused loop for tiny layers; None where the device's limits are below its storage
    /// buffers, workgroup memory or invocations.
    pub(crate) fused_loop: Option<WithBias>,
}

impl Kernels {
    /// The window forward with `shape`'s block of filters (`grids::forward_filter_block`).
    pub(crate) fn forward_window_for(&self, shape: &crate::shape::ConvShape) -> &WithBias {
        match crate::gpu::grids::forward_filter_block(shape) {
            table::FILTER_BLOCK => &self.forward_window,
            _ => &self.forward_window_small,
        }
    }

    /// The weight pack for the window forward of `shape`.
    pub(crate) fn pack_weights_for(&self, shape: &crate::shape::ConvShape) -> &Lazy {
        match crate::gpu::grids::forward_filter_block(shape) {
            table::FILTER_BLOCK => &self.pack_weights,
            _ => &self.pack_weights_small,
        }
    }

    /// The kernels for `device`, none compiled yet.
    pub(crate) fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Self {
        let new = |desc| Lazy::new(device, desc);
        let pair = |with, without| WithBias {
            with: new(with),
            without: new(without),
        };
        Kernels {
            fused_loop: table::FUSED_LOOP
                .fits(limits)
                .then(|| pair(&table::FUSED_LOOP, &table::FUSED_LOOP_NO_BIAS)),
            forward: pair(&table::FORWARD, &table::FORWARD_NO_BIAS),
            forward_tiled: pair(&table::FORWARD_TILED, &table::FORWARD_TILED_NO_BIAS),
            forward_window: pair(&table::FORWARD_WINDOW, &table::FORWARD_WINDOW_NO_BIAS),
            forward_window_small: pair(
                &table::FORWARD_WINDOW_SMALL,
                &table::FORWARD_WINDOW_SMALL_NO_BIAS,
            ),
            pack_weights: new(&table::PACK_WEIGHTS),
            pack_weights_small: new(&table::PACK_WEIGHTS_SMALL),
            pack_input_weights: new(&table::PACK_INPUT_WEIGHTS),
            pack_output_grad: new(&table::PACK_OUTPUT_GRAD),
            pack_input_rows: new(&table::PACK_INPUT_ROWS),
            pack_output_grad_rows: new(&table::PACK_OUTPUT_GRAD_ROWS),
            loss: new(&table::LOSS),
            loss_reduce: new(&table::LOSS_REDUCE),
            bwd_weight: pair(&table::BWD_WEIGHT, &table::BWD_WEIGHT_NO_BIAS),
            bwd_input: new(&table::BWD_INPUT),
            bwd_weight_tiled: pair(&table::BWD_WEIGHT_TILED, &table::BWD_WEIGHT_TILED_NO_BIAS),
            bwd_weight_window: pair(&table::BWD_WEIGHT_WINDOW, &table::BWD_WEIGHT_WINDOW_NO_BIAS),
            bwd_weight_reduce: pair(&table::BWD_WEIGHT_REDUCE, &table::BWD_WEIGHT_REDUCE_NO_BIAS),
            bwd_input_tiled: new(&table::BWD_INPUT_TILED),
            bwd_input_window: new(&table::BWD_INPUT_WINDOW),
            bwd_input_fold: new(&table::BWD_INPUT_FOLD),
            sgd: new(&table::SGD),
            relu_bwd: new(&table::RELU_BWD),
            max_pool_fwd: new(&table::MAX_POOL_FWD),
            max_pool_bwd: new(&table::MAX_POOL_BWD),
            cross_entropy: new(&table::CROSS_ENTROPY),
            loss_mean: new(&table::LOSS_MEAN),
            gather_rows: new(&table::GATHER_ROWS),
        }
    }

    /// Every kernel, in the order a page needs them (the forward first): each compiled now if
    /// it was not yet.
    pub(crate) fn compile_all(&self) {
        let pair = |p: &WithBias| {
            p.with.compile();
            p.without.compile();
        };
        pair(&self.forward);
        pair(&self.forward_tiled);
        pair(&self.forward_window);
        pair(&self.forward_window_small);
        self.pack_weights.compile();
        self.pack_weights_small.compile();
        if let Some(fused) = &self.fused_loop {
            pair(fused);
        }
        for k in [&self.loss, &self.loss_reduce] {
            k.compile();
        }
        pair(&self.bwd_weight);
        self.bwd_input.compile();
        pair(&self.bwd_weight_tiled);
        pair(&self.bwd_weight_window);
        self.pack_output_grad.compile();
        self.pack_input_rows.compile();
        self.pack_output_grad_rows.compile();
        pair(&self.bwd_weight_reduce);
        for k in [
            &self.bwd_input_tiled,
            &self.bwd_input_window,
            &self.pack_input_weights,
            &self.bwd_input_fold,
            &self.sgd,
            &self.relu_bwd,
            &self.max_pool_fwd,
            &self.max_pool_bwd,
            &self.cross_entropy,
            &self.loss_mean,
            &self.gather_rows,
        ] {
            k.compile();
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
    /// For adapters on CPU cores, fewer loads per product: the forward computes eight filters ×
    /// eight outputs of a row per invocation (the simple version's bits); dW sums a whole R×S
    /// window (R·S ≤ 64) of four filters per range of output rows and channel, reading each dz
    /// once; dX computes four channels × eight pixels of a row per invocation (the simple
    /// version's sums in its order).
    Window,
}

impl KernelVersion {
    /// The versions meant for every adapter (the window one is for adapters on CPU cores).
    pub const ALL: [KernelVersion; 2] = [KernelVersion::Simple, KernelVersion::Tiled];
    /// Every version, the window one (for adapters on CPU cores) included.
    pub const WINDOWED: [KernelVersion; 3] = [
        KernelVersion::Simple,
        KernelVersion::Tiled,
        KernelVersion::Window,
    ];

    /// The name `--kernel` takes.
    pub fn name(self) -> &'static str {
        match self {
            KernelVersion::Simple => "simple",
            KernelVersion::Tiled => "tiled",
            KernelVersion::Window => "window",
        }
    }

    /// Parses `--kernel`'s value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::WINDOWED.into_iter().find(|v| v.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::binding_slots;
    use crate::gpu::table::SGD;

    #[test]
    fn binding_slots_follow_names_not_order() {
        let names = ["buf", "params", "grad", "param"];
        assert_eq!(binding_slots(&SGD, names.into_iter()), Ok(vec![3, 0, 2, 1]));
    }

    #[test]
    fn binding_slots_refuse_unknown_missing_and_repeated_names() {
        let cases: [&[&str]; 3] = [
            &["params", "param", "grad", "momentum"],
            &["params", "param", "grad"],
            &["params", "param", "grad", "grad"],
        ];
        for names in cases {
            assert!(
                binding_slots(&SGD, names.iter().copied()).is_err(),
                "{names:?}"
            );
        }
    }
}
