//! Random-shape GPU-vs-CPU checking, shared by `wgconv check` and the tests.
//!
//! Shapes come from a seeded generator that cycles through edge-case families (1×1 kernels,
//! kernels as large as the padded input, strides larger than the kernel, asymmetric padding,
//! batches and channels, K past the workgroup size, one-pixel-wide images, dilation, groups,
//! depthwise layers with multipliers, four-sided and `same` padding, each padding mode, no bias,
//! and every option at once) between general random draws, so any run of 18 or more cases
//! covers them all.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::compare::{compare, forward_bound, Comparison};
use crate::cpu;
use crate::error::Result;
use crate::gpu::{GpuContext, KernelVersion};
use crate::shape::{ConvShape, ConvShapeSpec, Padding, PaddingMode};
use crate::tensor::Tensor4;

/// The edge-case family a generated shape belongs to.
pub const FAMILIES: [&str; 18] = [
    "random",
    "1x1 kernel",
    "kernel = padded input",
    "stride > kernel",
    "asymmetric, non-square",
    "batch and channels",
    "K > workgroup",
    "one-pixel-wide image",
    "dilated, padded",
    "grouped",
    "depthwise, multiplier",
    "4-sided padding",
    "same, even kernel",
    "reflect padding",
    "replicate padding",
    "circular padding",
    "no bias",
    "every option",
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

    /// The next shape, from family `index % 18`. Draws that break a rule of `ConvShape::new`
    /// (a kernel past the padded input, reflect padding as wide as the image) are drawn again.
    pub fn next_shape(&mut self) -> ConvShape {
        let family = self.index % FAMILIES.len();
        self.index += 1;
        loop {
            if let Ok(shape) = ConvShape::new(self.draw(family)) {
                return shape;
            }
        }
    }

    /// One draw of `family`'s spec, unvalidated.
    fn draw(&mut self, family: usize) -> ConvShapeSpec {
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
        let rows = |spec: &ConvShapeSpec| spec.h + spec.padding.top + spec.padding.bottom;
        let cols = |spec: &ConvShapeSpec| spec.w + spec.padding.left + spec.padding.right;
        match family {
            1 => {} // 1×1 kernel as drawn
            2 => {
                spec.r = rows(&spec);
                spec.s = cols(&spec);
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
                spec.r = rng.random_range(1..=3).min(rows(&spec));
                spec.s = rng.random_range(1..=3).min(cols(&spec));
            }
            6 => {
                spec.k = rng.random_range(65..=140);
                spec.h = rng.random_range(1..=6);
                spec.w = rng.random_range(1..=6);
                spec.r = rng.random_range(1..=3).min(rows(&spec));
                spec.s = rng.random_range(1..=3).min(cols(&spec));
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
                spec.r = rng.random_range(1..=rows(&spec).min(4));
                spec.s = rng.random_range(1..=cols(&spec).min(4));
            }
            8 => {
                spec.h = rng.random_range(4..=16);
                spec.w = rng.random_range(4..=16);
                spec.dilation = (rng.random_range(2..=3), rng.random_range(1..=3));
                spec.padding = Padding::symmetric(rng.random_range(1..=3), rng.random_range(1..=3));
                spec.r = rng.random_range(2..=3);
                spec.s = rng.random_range(2..=3);
            }
            9 => {
                spec.groups = rng.random_range(2..=3);
                spec.c = spec.groups * rng.random_range(1..=3);
                spec.k = spec.groups * rng.random_range(1..=3);
                spec.r = rng.random_range(1..=3);
                spec.s = rng.random_range(1..=3);
            }
            10 => {
                spec.c = rng.random_range(1..=4);
                spec.groups = spec.c;
                spec.k = spec.c * rng.random_range(1..=3);
                spec.r = rng.random_range(1..=3);
                spec.s = rng.random_range(1..=3);
            }
            11 => {
                spec.padding = four_sides(rng, 3);
                spec.r = rng.random_range(1..=4);
                spec.s = rng.random_range(1..=4);
            }
            12 => {
                spec.stride = (1, 1);
                spec.r = 2 * rng.random_range(1..=2);
                spec.s = 2 * rng.random_range(1..=2);
                spec.dilation = (rng.random_range(1..=2), rng.random_range(1..=2));
                spec.padding = Padding::same((spec.r, spec.s), spec.dilation);
            }
            13..=15 => {
                spec.padding_mode = [
                    PaddingMode::Reflect,
                    PaddingMode::Replicate,
                    PaddingMode::Circular,
                ][family - 13];
                spec.padding = four_sides(rng, 3);
                spec.r = rng.random_range(1..=4);
                spec.s = rng.random_range(1..=4);
            }
            16 => {
                spec.bias = false;
                spec.r = rng.random_range(1..=3);
                spec.s = rng.random_range(1..=3);
            }
            17 => {
                spec.groups = rng.random_range(1..=3);
                spec.c = spec.groups * rng.random_range(1..=2);
                spec.k = spec.groups * rng.random_range(1..=3);
                spec.dilation = (rng.random_range(1..=2), rng.random_range(1..=2));
                spec.padding = four_sides(rng, 3);
                spec.padding_mode = PaddingMode::ALL[rng.random_range(0..4)];
                spec.bias = rng.random_bool(0.5);
                spec.r = rng.random_range(1..=3);
                spec.s = rng.random_range(1..=3);
            }
            _ => {
                spec.r = rng.random_range(1..=rows(&spec).min(7));
                spec.s = rng.random_range(1..=cols(&spec).min(7));
            }
        }
        spec
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
        let b = fill(shape.bias_len(), 0.5);
        Case {
            family,
            shape,
            x: Tensor4 {
                dims: [d(shape.n), d(shape.c), d(shape.h), d(shape.w)],
                data: x,
            },
            w: Tensor4 {
                dims: [
                    d(shape.k),
                    d(shape.channels_per_group()),
                    d(shape.r),
                    d(shape.s),
                ],
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

/// Padding of up to `max` on each side, drawn independently.
fn four_sides(rng: &mut ChaCha8Rng, max: u32) -> Padding {
    Padding {
        top: rng.random_range(0..=max),
        bottom: rng.random_range(0..=max),
        left: rng.random_range(0..=max),
        right: rng.random_range(0..=max),
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
