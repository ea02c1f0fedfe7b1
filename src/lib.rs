//! # wgconv
//!
//! A convolutional layer — fused convolution + bias + ReLU — in WGSL compute shaders that run on
//! any GPU wgpu supports (Vulkan, Metal, DX12, OpenGL), and on machines without a GPU through
//! Mesa's software drivers. Every kernel has an f64 CPU twin in [`cpu`], and results are compared
//! against it element by element with a bound derived from f32 summation error
//! ([`compare::forward_bound`]).
//!
//! The default `cli` feature adds what the `wgconv` command line uses: image input and atomic
//! output files (`io`), pictures (`pictures`, `drawing`), the notebook's demo (`demo`) and
//! the teacher/student task (`teacher_student`). Without it the library needs no CLI crates.
//!
//! ```no_run
//! use wgconv::{cpu, compare, AdapterRequest, ConvShape, GpuContext, Tensor4};
//!
//! # fn main() -> Result<(), wgconv::Error> {
//! let ctx = GpuContext::new(&AdapterRequest::from_env())?;
//! println!("running on {}", ctx.adapter());
//!
//! // The notebook's layer: a 24×24 image, two 5×5 filters, stride 1 → two 20×20 maps.
//! let shape = ConvShape::SEED;
//! let x = wgconv::filters::seed_image();
//! let w = wgconv::filters::seed_filters();
//! let b = [0.0f32, 0.0];
//! let out = ctx.conv2d_bias_relu_fwd(&shape, &x, &w, &b, false)?;
//!
//! let reference = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &w.data, &b);
//! let check = compare::compare(
//!     &out.y.data,
//!     &reference.y,
//!     |i| compare::forward_bound(&shape, reference.abs_sum[i]),
//!     out.y.dims,
//! );
//! assert!(check.passed());
//! # Ok(()) }
//! ```

pub mod bench;
pub mod check;
pub mod compare;
pub mod cpu;
#[cfg(feature = "cli")]
pub mod demo;
#[cfg(feature = "cli")]
pub mod drawing;
pub mod error;
pub mod filters;
pub mod gpu;
#[cfg(feature = "cli")]
pub mod io;
pub mod npy;
#[cfg(feature = "cli")]
pub mod pictures;
pub mod sgd;
pub mod shape;
#[cfg(feature = "cli")]
pub mod teacher_student;
pub mod tensor;
pub mod train_check;
pub mod weights;

pub use error::{Error, Result};
pub use gpu::{AdapterRequest, GpuContext};
pub use shape::{ConvShape, ConvShapeSpec, ShapeError};
pub use tensor::Tensor4;
