//! Random-shape GPU-vs-CPU checking, shared by `wgconv check` and the tests.
//!
//! Shapes come from a seeded generator that cycles through edge-case families (1×1 kernels,
//! kernels as large as the padded input, strides larger than the kernel, asymmetric padding,
//! batches and channels, K past the workgroup size, one-pixel-wide images) between general
//! random draws, so any run of 8 or more cases covers them all.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::compare::{compare, forward_bound, Comparison};
use crate::cpu;
use crate::error::Result;
use crate::gpu::{GpuContext, KernelVersion};
use crate::shape::{ConvShape, ConvShapeSpec, Padding};
use crate::tensor::Tensor4;

/// The edge-case family a generated shape belongs to.
pub const FAMILIES: [&str; 8] = [
    "random",
    "1x1 kernel",
    "kernel = padded input",
    "stride > kernel",
    "asymmetric, non-square",
    "batch and channels",
    "K > workgroup",
    "one-pixel-wide image",
];

/// One problem: a shape and its inputs.
#[derive(Debug, Clone)]
pub struct Case {
    pub family: &'static str,
    pub shape: ConvShape,
    pub x: Tensor4,
    pub w: Tensor4,
    pub b: Vec<f32>,
}

/// GPU against CPU for one case: y and the pre-activation z, each against its bound.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub family: &'static str,
    pub shape: ConvShape,
    pub y: Comparison,
    pub z: Comparison,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.y.passed() && self.z.passed()
    }

    /// The larger of the two worst error-to-bound ratios.
    pub fn worst_ratio(&self) -> f64 {
        self.y.worst_ratio().max(self.z.worst_ratio())
    }
}

/// A seeded stream of cases.
pub struct CaseGenerator {
    rng: ChaCha8Rng,
    index: usize,
}

impl CaseGenerator {
    pub fn new(seed: u64) -> Self {
        CaseGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            index: 0,
        }
    }

    /// The next shape, from family `index % 8`.
    pub fn next_shape(&mut self) -> ConvShape {
        let family = self.index % FAMILIES.len();
        self.index += 1;
        let rng = &mut self.rng;
        let mut spec = ConvShapeSpec {
            n: rng.random_range(1..=2),
            c: rng.random_range(1..=3),
            h: rng.random_range(1..=16),
            w: rng.random_range(1..=16),
            k: rng.random_range(1..=6),
            r: 1,
            s: 1,
            stride: (rng.random_range(1..=3), rng.random_range(1..=3)),
            padding: Padding::symmetric(rng.random_range(0..=2), rng.random_range(0..=2)),
            ..Default::default()
        };
        match family {
            1 => {} // 1×1 kernel as drawn
            2 => {
                spec.r = spec.h + (spec.padding.top + spec.padding.bottom);
                spec.s = spec.w + (spec.padding.left + spec.padding.right);
            }
            3 => {
                spec.h = rng.random_range(6..=20);
                spec.w = rng.random_range(6..=20);
                spec.r = rng.random_range(1..=2);
                spec.s = rng.random_range(1..=2);
                spec.stride = (rng.random_range(3..=5), rng.random_range(3..=5));
            }
            4 => {
                spec.h = rng.random_range(3..=14);
                spec.w = spec.h + rng.random_range(2..=9);
                spec.padding = Padding::symmetric(0, rng.random_range(1..=3));
                spec.r = rng.random_range(1..=3);
                spec.s = spec.r + rng.random_range(1..=3);
            }
            5 => {
                spec.n = rng.random_range(2..=4);
                spec.c = rng.random_range(2..=5);
                spec.r = rng
                    .random_range(1..=3)
                    .min(spec.h + (spec.padding.top + spec.padding.bottom));
                spec.s = rng
                    .random_range(1..=3)
                    .min(spec.w + (spec.padding.left + spec.padding.right));
            }
            6 => {
                spec.k = rng.random_range(65..=140);
                spec.h = rng.random_range(1..=6);
                spec.w = rng.random_range(1..=6);
                spec.r = rng
                    .random_range(1..=3)
                    .min(spec.h + (spec.padding.top + spec.padding.bottom));
                spec.s = rng
                    .random_range(1..=3)
                    .min(spec.w + (spec.padding.left + spec.padding.right));
            }
            7 => {
                if rng.random_bool(0.5) {
                    spec.h = 1;
                    spec.padding.top = 0;
                    spec.padding.bottom = 0;
                } else {
                    spec.w = 1;
                    spec.padding.left = 0;
                    spec.padding.right = 0;
                }
                spec.r = rng
                    .random_range(1..=(spec.h + (spec.padding.top + spec.padding.bottom)).min(4));
                spec.s = rng
                    .random_range(1..=(spec.w + (spec.padding.left + spec.padding.right)).min(4));
            }
            _ => {
                spec.r = rng
                    .random_range(1..=(spec.h + (spec.padding.top + spec.padding.bottom)).min(7));
                spec.s = rng
                    .random_range(1..=(spec.w + (spec.padding.left + spec.padding.right)).min(7));
            }
        }
        // Every spec above keeps every dim ≥ 1 and the kernel inside the padded input.
        ConvShape::new(spec).expect("the generator only builds valid shapes")
    }

    /// Inputs for `shape`: x and w uniform in [−1, 1], b in [−0.5, 0.5].
    pub fn inputs(&mut self, shape: ConvShape, family: &'static str) -> Case {
        let rng = &mut self.rng;
        let mut fill = |len: u64, a: f32| {
            (0..len)
                .map(|_| rng.random_range(-a..=a))
                .collect::<Vec<f32>>()
        };
        let d = |v: u32| v as usize;
        let x = fill(shape.input_len(), 1.0);
        let w = fill(shape.weight_len(), 1.0);
        let b = fill(u64::from(shape.k), 0.5);
        Case {
            family,
            shape,
            x: Tensor4 {
                dims: [d(shape.n), d(shape.c), d(shape.h), d(shape.w)],
                data: x,
            },
            w: Tensor4 {
                dims: [d(shape.k), d(shape.c), d(shape.r), d(shape.s)],
                data: w,
            },
            b,
        }
    }

    /// The next case.
    pub fn next_case(&mut self) -> Case {
        let family = FAMILIES[self.index % FAMILIES.len()];
        let shape = self.next_shape();
        self.inputs(shape, family)
    }
}

/// Runs `case` on the GPU with forward `version` and on the f64 reference, and compares y and
/// z element by element.
pub fn run_case(ctx: &GpuContext, case: &Case, version: KernelVersion) -> Result<CaseResult> {
    let gpu =
        ctx.conv2d_bias_relu_fwd_with(version, &case.shape, &case.x, &case.w, &case.b, true)?;
    Ok(compare_forward(case, &gpu.y, gpu.z.as_ref()))
}

/// Compares GPU outputs with the reference for `case` (z is skipped when absent).
pub fn compare_forward(case: &Case, y: &Tensor4, z: Option<&Tensor4>) -> CaseResult {
    let reference = cpu::conv2d_bias_relu_fwd(&case.shape, &case.x.data, &case.w.data, &case.b);
    let bound = |i: usize| forward_bound(&case.shape, reference.abs_sum[i]);
    let y_cmp = compare(&y.data, &reference.y, bound, y.dims);
    let z_cmp = match z {
        Some(z) => compare(&z.data, &reference.z, bound, z.dims),
        None => Comparison {
            checked: 0,
            over: 0,
            worst: None,
        },
    };
    CaseResult {
        family: case.family,
        shape: case.shape,
        y: y_cmp,
        z: z_cmp,
    }
}
