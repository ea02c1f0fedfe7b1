//! Everything that talks to wgpu.

pub mod adapter;
mod compose;
pub mod context;
pub mod conv2d;
pub mod forward;
pub mod grids;
pub(crate) mod kernel;
pub mod memory;
pub mod params;
pub mod table;
pub mod tensor;
pub mod trainer;
pub mod versions;
pub mod warm_up;
pub mod wgsl;

pub use adapter::{list_adapters, parse_backends, AdapterRequest, AdapterSummary};
pub use context::{ensure_within_binding_range, GpuContext, KeyLimits, MAX_BINDING_BYTES};
pub use conv2d::{Conv2d, Conv2dConfig, Conv2dOutput, ForwardOptions};
pub use forward::check_forward_inputs;
pub use forward::ForwardOutput;
pub use grids::FORWARD_WORKGROUP_SIZE;
pub use kernel::KernelVersion;
pub use memory::MemoryUse;
pub use params::{ConvParams, FusedLoopParams, LossParams, ParamsLayout, SgdParams};
pub use tensor::DeviceTensor;
pub use trainer::{Pass, Trainer, TrainerOptions, TrainerState, FUSED_STEPS_PER_DISPATCH};
pub use versions::{
    bwd_input_version_for, bwd_weight_version_for, fits_fused_loop, forward_version_for,
    KernelChoice, TrainVersions,
};
pub use warm_up::WarmUp;
