//! Everything that talks to wgpu.

pub mod adapter;
mod compose;
pub mod context;
pub mod conv2d;
pub mod forward;
pub mod gather;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod grids;
pub(crate) mod kernel;
pub(crate) mod launch;
pub mod linear;
pub mod loss;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod memory;
pub(crate) mod op_timer;
pub mod optim;
pub(crate) mod pack;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod params;
pub mod pool;
pub mod sequential;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod specialize;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod table;
pub mod tensor;
pub mod trainer;
pub mod tune;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod versions;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod warm_up;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod wgsl;

pub use adapter::{list_adapters, parse_backends, AdapterRequest, AdapterSummary};
pub use context::{ensure_within_binding_range, GpuContext, KeyLimits, MAX_BINDING_BYTES};
pub use conv2d::ForwardOutput;
pub use conv2d::{
    Activation, BackwardOptions, Conv2d, Conv2dConfig, Conv2dGrads, Conv2dOutput, Conv2dSaved,
    ForwardOptions,
};
pub use forward::check_forward_inputs;
pub use gather::DeviceIndices;
pub use grids::FORWARD_WORKGROUP_SIZE;
pub use kernel::KernelVersion;
pub use linear::{Linear, LinearSaved};
pub use loss::{cross_entropy, mse_loss, DeviceLabels};
pub use memory::MemoryUse;
pub use optim::{Gradients, Parameters, SgdOptimizer};
pub use params::{ConvParams, FusedLoopParams, LossParams, ParamsLayout, SgdParams};
pub use pool::{MaxPool2d, MaxPoolSaved};
pub use sequential::{Layer, Sequential};
pub use tensor::DeviceTensor;
pub use trainer::{Pass, Trainer, TrainerOptions, TrainerState, FUSED_STEPS_PER_DISPATCH};
pub use versions::{
    bwd_input_version_for, bwd_weight_version_for, bwd_weight_version_on_cpu, fits_fused_loop,
    forward_version_for, KernelChoice, TrainVersions,
};
pub use warm_up::WarmUp;
