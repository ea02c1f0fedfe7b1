//! # wgconv
//!
//! A convolutional layer — fused convolution + bias + ReLU — in WGSL compute shaders that run on
//! any GPU wgpu supports (Vulkan, Metal, DX12, OpenGL), and on machines without a GPU through
//! Mesa's software drivers. Every kernel has an f64 CPU twin in [`cpu`], and results are compared
//! against it element by element with a bound derived from f32 summation error
//! ([`compare::forward_bound`]).
//!
//! The default `cli` feature adds what the `wgconv` command line uses: image input (`io`),
//! checked and atomic output files (`outputs`), pictures (`pictures`, `drawing`), the
//! notebook's demo (`demo`) and the teacher/student task (`teacher_student`). Without it the
//! library needs no CLI crates.
//!
//! ## A forward pass
//!
//! A [`Conv2d`] keeps its weights and bias on the device; [`DeviceTensor`]s carry activations,
//! and nothing comes back to the host until it is downloaded.
//!
//! ```
//! use wgconv::{cpu, compare, AdapterRequest, Conv2d, Conv2dConfig, DeviceTensor, GpuContext};
//!
//! # fn main() -> Result<(), wgconv::Error> {
//! let ctx = GpuContext::new(&AdapterRequest::from_env())?;
//!
//! // The notebook's layer: a 24×24 image, two 5×5 filters, stride 1 → two 20×20 maps.
//! let w = wgconv::notebook::filters();
//! let b = [0.0f32, -0.1];
//! let layer = Conv2d::from_weights(&ctx, Conv2dConfig::NOTEBOOK, &w, Some(&b))?;
//! let image = wgconv::notebook::image();
//! let x = DeviceTensor::upload(&ctx, "x", &image)?;
//! let y = layer.forward(&x)?.download(&ctx)?;
//! assert_eq!(y.dims, [1, 2, 20, 20]);
//!
//! // Every element against the f64 reference, within its own rounding bound.
//! let shape = layer.config().shape_for(image.dims)?;
//! let reference = cpu::conv2d_bias_relu_fwd(&shape, &image.data, &w.data, &b);
//! let check = compare::compare(&y.data, &reference.y, |i| {
//!     compare::forward_bound(&shape, reference.abs_sum[i])
//! }, y.dims);
//! assert!(check.passed());
//! # Ok(()) }
//! ```
//!
//! ## Learning
//!
//! A [`Trainer`] takes the layer and runs full-batch SGD steps on the device (MSE loss through
//! the ReLU, as `F.mse_loss` and `torch.optim.SGD`), reading back only the losses.
//!
//! ```
//! use wgconv::{AdapterRequest, Conv2d, Conv2dConfig, GpuContext, Sgd, Trainer, TrainerOptions};
//!
//! # fn main() -> Result<(), wgconv::Error> {
//! let ctx = GpuContext::new(&AdapterRequest::from_env())?;
//! let x = wgconv::notebook::image();
//!
//! // The target: what the notebook's edge filters make of the image.
//! let teacher = Conv2d::from_weights(
//!     &ctx, Conv2dConfig::NOTEBOOK, &wgconv::notebook::filters(), Some(&[0.1, -0.05]))?;
//! let t = teacher.forward(&wgconv::DeviceTensor::upload(&ctx, "x", &x)?)?.download(&ctx)?;
//!
//! // A student initialised as PyTorch would, trained toward it.
//! let student = Conv2d::new(&ctx, Conv2dConfig::NOTEBOOK, 0)?;
//! let sgd = Sgd { momentum: 0.9, ..Sgd::new(0.5) };
//! let mut trainer = Trainer::new(student, &x, &t, TrainerOptions::new(sgd))?;
//! let mut losses = Vec::new();
//! trainer.run(200, false, |_first_step, l| losses.extend_from_slice(l))?;
//! assert!(losses[199] < losses[0]);
//! let (w, b) = trainer.into_layer().read_weights()?;
//! # let _ = (w, b);
//! # Ok(()) }
//! ```

#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod bench;
pub mod check;
pub mod compare;
pub mod cpu;
#[cfg(feature = "cli")]
pub mod demo;
#[cfg(feature = "cli")]
pub mod digits;
#[cfg(feature = "cli")]
pub mod drawing;
pub mod error;
#[cfg(feature = "cli")]
pub mod figures;
pub mod gpu;
pub mod init;
#[cfg(feature = "cli")]
pub mod io;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod limits;
pub mod loss_trace;
#[cfg(feature = "cli")]
pub mod notation;
pub mod notebook;
pub mod npy;
#[cfg(feature = "cli")]
pub mod outputs;
#[cfg(feature = "cli")]
pub mod pictures;
#[cfg(feature = "cli")]
pub mod plots;
pub mod sgd;
pub mod shape;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod step_check;
#[doc(hidden)] // the CLI's and the tests'; not part of the API
pub mod teacher_student;
pub mod tensor;
pub mod weights;

pub use error::{Error, Result};
pub use gpu::{
    cross_entropy, mse_loss, Activation, AdapterRequest, BackwardOptions, Conv2d, Conv2dConfig,
    Conv2dGrads, Conv2dSaved, DeviceIndices, DeviceLabels, DeviceTensor, ForwardOptions,
    GpuContext, Gradients, Layer, Linear, LinearSaved, MaxPool2d, MaxPoolSaved, Parameters,
    Sequential, SgdOptimizer, Trainer, TrainerOptions,
};
pub use sgd::Sgd;
pub use shape::{
    ConvOptions, ConvShape, ConvShapeSpec, Padding, PaddingMode, PaddingSpec, ShapeError,
};
pub use tensor::Tensor4;
/// The wgpu this crate is built on, for [`GpuContext::from_device`] and
/// [`DeviceTensor::buffer`].
pub use wgpu;
