//! Every rule that picks a kernel version, in one place. The figures behind them are in
//! BENCHMARKS.md (lavapipe).

use crate::gpu::grids;
use crate::gpu::kernel::KernelVersion;
use crate::gpu::table::ROW_BLOCK;
use crate::gpu::wgsl::{
    FUSED_LOOP_MAX_FILTERS, FUSED_LOOP_MAX_INPUTS, FUSED_LOOP_MAX_OUTPUTS, FUSED_LOOP_MAX_WEIGHTS,
};
use crate::shape::ConvShape;

/// Whether a GEMM pass has enough work, and enough of its 64 tile columns used, for the tiled
/// version: at least 2¹⁶ multiply-adds and `columns` ≥ 16 (a quarter of a tile). Measured on
/// lavapipe: tiled dX with C = 3 (stem) ran 5× slower than simple, with C = 64 (resnet56) 5.6×
/// faster.
fn tiled_pays(shape: &ConvShape, columns: u64) -> bool {
    shape.output_len() * shape.reduction_len() >= 1 << 16 && columns >= 16
}

fn tiled_if(pays: bool) -> KernelVersion {
    if pays {
        KernelVersion::Tiled
    } else {
        KernelVersion::Simple
    }
}

/// The forward version for `shape`: tiled when it has the work and K/G ≥ 16 (the tile's
/// columns are the filters of one group; a depthwise layer has one, so it runs simple).
pub fn forward_version_for(shape: &ConvShape) -> KernelVersion {
    tiled_if(tiled_pays(shape, shape.filters_per_group().into()))
}

/// The dW version for `shape`: tiled when K/G ≥ 16 and (C/G)·R·S ≥ 16 (its tile is one group's
/// K/G × (C/G)·R·S).
pub fn bwd_weight_version_for(shape: &ConvShape) -> KernelVersion {
    tiled_if(tiled_pays(
        shape,
        u64::from(shape.filters_per_group()).min(shape.reduction_len()),
    ))
}

/// The dW version for `shape` on an adapter whose invocations run on CPU cores (lavapipe,
/// SwiftShader, WARP): the window version wherever it takes the shape (R·S ≤ 64, a row of
/// outputs short enough: `grids::window_takes`). Measured on lavapipe and SwiftShader for the
/// digits layer (BENCHMARKS.md): 2.4–3.2× the simple version's speed, 4–5× on SwiftShader; and
/// on lavapipe ahead of tiled on every bench shape (2026-12-02); on a GPU it would give each
/// invocation a whole sample's sum, so GPUs keep the shape rule.
pub fn bwd_weight_version_on_cpu(shape: &ConvShape) -> KernelVersion {
    match bwd_weight_version_for(shape) {
        _ if grids::window_takes(shape).is_ok() => KernelVersion::Window,
        v => v,
    }
}

impl crate::gpu::GpuContext {
    /// Whether the rules pick versions for an adapter on CPU cores; by default, whether the
    /// adapter says it is one (a browser's adapter often does not: set it there).
    pub fn set_cpu_rules(&self, on: bool) {
        self.cpu_rules
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn cpu_rules(&self) -> bool {
        self.cpu_rules.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The versions of a linear layer's backward (`shape`: its 1×1 convolution): on CPU cores
    /// the window dW (one dot product over the batch per weight) and the simple dX; measured
    /// on SwiftShader for N = 64, 200 → 10: see BENCHMARKS.md. Elsewhere
    /// [`linear_backward_versions`].
    pub(crate) fn linear_backward_rule(
        &self,
        shape: &ConvShape,
    ) -> crate::gpu::conv2d::BackwardOptions {
        match self.cpu_rules() {
            true => crate::gpu::conv2d::BackwardOptions {
                input_grad: false,
                weight_kernel: Some(KernelVersion::Window),
                input_kernel: Some(KernelVersion::Simple),
            },
            false => linear_backward_versions(shape),
        }
    }

    /// The forward version the rules pick for `shape` on this context's adapter: on CPU cores
    /// the window version wherever it takes the shape and a row has at least the 8 outputs of
    /// its block (the simple version's bits, fewer loads; on lavapipe ahead of tiled on every
    /// bench shape, BENCHMARKS.md 2026-12-02; a linear layer's single column keeps the shape
    /// rule: 2× faster so on SwiftShader).
    pub(crate) fn forward_rule(&self, shape: &ConvShape) -> KernelVersion {
        match (self.cpu_rules(), forward_version_for(shape)) {
            (true, _) if shape.q() >= ROW_BLOCK && grids::window_forward_takes(shape).is_ok() => {
                KernelVersion::Window
            }
            (_, v) => v,
        }
    }

    /// The dX version the rules pick for `shape` on this context's adapter: on CPU cores the
    /// window version wherever it takes the shape.
    pub(crate) fn bwd_input_rule(&self, shape: &ConvShape) -> KernelVersion {
        match (self.cpu_rules(), bwd_input_version_for(shape)) {
            (true, _) if grids::window_input_takes(shape).is_ok() => KernelVersion::Window,
            (_, v) => v,
        }
    }

    /// The dW version the rules pick for `shape` on this context's adapter.
    pub(crate) fn bwd_weight_rule(&self, shape: &ConvShape) -> KernelVersion {
        match self.cpu_rules() {
            true => bwd_weight_version_on_cpu(shape),
            false => bwd_weight_version_for(shape),
        }
    }
}

/// The dX version for `shape`: tiled when C/G ≥ 16 (the tile's columns are one group's input
/// channels).
pub fn bwd_input_version_for(shape: &ConvShape) -> KernelVersion {
    tiled_if(tiled_pays(shape, shape.channels_per_group().into()))
}

/// The kernels of a linear layer's backward, run as a 1×1 convolution of `shape` (N, in, 1, 1)
/// → (N, out, 1, 1): the tiled dW and dX (each a plain GEMM) once the GEMM has 2¹⁶
/// multiply-adds, whatever `out` is. Measured on lavapipe for N = 64, 800 → 10: 20 ms against
/// 79 ms for the simple pair (whose dW gives each of the 8,010 weights a workgroup for 64
/// terms); the conv rules pick simple there, as out = 10 fills few tile columns.
pub fn linear_backward_versions(shape: &ConvShape) -> crate::gpu::conv2d::BackwardOptions {
    let version = tiled_if(shape.output_len() * shape.reduction_len() >= 1 << 16);
    crate::gpu::conv2d::BackwardOptions {
        input_grad: false,
        weight_kernel: Some(version),
        input_kernel: Some(version),
    }
}

/// Whether the fused loop (`fused_loop.wgsl`) can hold the layer in workgroup memory:
/// K·(C/G)·R·S ≤ 512, K ≤ 32, N·K·P·Q ≤ 3200 and N·C·H·W ≤ 2304 (the FUSED_LOOP_MAX_ constants).
pub fn fits_fused_loop(shape: &ConvShape) -> bool {
    shape.weight_len() <= u64::from(FUSED_LOOP_MAX_WEIGHTS)
        && shape.k <= FUSED_LOOP_MAX_FILTERS
        && shape.output_len() <= u64::from(FUSED_LOOP_MAX_OUTPUTS)
        && shape.input_len() <= u64::from(FUSED_LOOP_MAX_INPUTS)
}

/// The kernel version of each pass a training step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainVersions {
    pub forward: KernelVersion,
    pub bwd_weight: KernelVersion,
    pub bwd_input: KernelVersion,
    /// Run whole training loops in one dispatch of the fused loop where the layer fits it.
    pub fused_loop: bool,
}

impl TrainVersions {
    /// The versions the crate picks for `shape`: the fused loop when the layer fits it.
    pub fn for_shape(shape: &ConvShape) -> Self {
        TrainVersions {
            forward: forward_version_for(shape),
            bwd_weight: bwd_weight_version_for(shape),
            bwd_input: bwd_input_version_for(shape),
            fused_loop: fits_fused_loop(shape),
        }
    }

    /// Every pass in `version`, no fused loop.
    pub const fn all(version: KernelVersion) -> Self {
        TrainVersions {
            forward: version,
            bwd_weight: version,
            bwd_input: version,
            fused_loop: false,
        }
    }

    /// The window forward, dW (R·S ≤ 64) and dX, for adapters on CPU cores.
    pub const fn window() -> Self {
        TrainVersions::all(KernelVersion::Window)
    }

    /// The fused loop for steps (falling back to the simple kernels where it cannot run).
    pub const fn fused() -> Self {
        TrainVersions {
            forward: KernelVersion::Simple,
            bwd_weight: KernelVersion::Simple,
            bwd_input: KernelVersion::Simple,
            fused_loop: true,
        }
    }
}

/// What `--kernel` names, on every command that takes it: one version for every pass (the window
/// versions for adapters on CPU cores), or the fused loop (a whole training step per
/// invocation of one kernel, for tiny layers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelChoice {
    Simple,
    Tiled,
    Window,
    Fused,
}

impl KernelChoice {
    pub const ALL: [KernelChoice; 4] = [
        KernelChoice::Simple,
        KernelChoice::Tiled,
        KernelChoice::Window,
        KernelChoice::Fused,
    ];

    /// The name `--kernel` takes.
    pub fn name(self) -> &'static str {
        match self {
            KernelChoice::Simple => "simple",
            KernelChoice::Tiled => "tiled",
            KernelChoice::Window => "window",
            KernelChoice::Fused => "fused",
        }
    }

    /// Parses `--kernel`'s value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The version of a forward pass on its own; None for the fused loop, which only trains.
    pub fn forward(self) -> Option<KernelVersion> {
        match self {
            KernelChoice::Simple => Some(KernelVersion::Simple),
            KernelChoice::Tiled => Some(KernelVersion::Tiled),
            KernelChoice::Window => Some(KernelVersion::Window),
            KernelChoice::Fused => None,
        }
    }

    /// The versions a training step runs.
    pub fn train_versions(self) -> TrainVersions {
        match self {
            KernelChoice::Window => TrainVersions::window(),
            KernelChoice::Fused => TrainVersions::fused(),
            _ => self
                .forward()
                .map_or(TrainVersions::fused(), TrainVersions::all),
        }
    }
}
