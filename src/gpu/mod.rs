//! Everything that talks to wgpu.

pub mod context;
pub mod forward;
pub(crate) mod kernel;
pub mod params;
pub mod table;
pub mod train;
pub mod wgsl;

pub use context::{
    list_adapters, parse_backends, AdapterRequest, AdapterSummary, GpuContext, KeyLimits,
};
pub use forward::{check_forward_inputs, ForwardOutput, FORWARD_WORKGROUP_SIZE};
pub use kernel::KernelVersion;
pub use params::{ConvParams, FusedLoopParams, LossParams, ParamsLayout, SgdParams};
pub use train::{Pass, TrainVersions, Trainer, TrainerState};
