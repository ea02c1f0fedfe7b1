//! Everything that talks to wgpu.

pub mod context;
pub mod forward;
pub(crate) mod kernel;
pub mod params;
pub mod train;

pub use context::{
    list_adapters, parse_backends, AdapterRequest, AdapterSummary, GpuContext, KeyLimits,
};
pub use forward::{
    check_forward_inputs, ForwardOutput, CONV2D_BIAS_RELU_FWD_WGSL, FORWARD_WORKGROUP_SIZE,
};
pub use kernel::{sources, KernelVersion};
pub use params::{ConvParams, LossParams, SgdParams, TinyParams};
pub use train::{Pass, TrainVersions, Trainer, TrainerState};
