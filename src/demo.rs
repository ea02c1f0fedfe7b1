//! The notebook's forward half on the GPU: a 24×24 input, the two 5×5 filters, stride 1.

use std::fmt::Write;

use image::RgbImage;

use crate::check::{compare_forward, Case, CaseResult};
use crate::cpu::{self, ForwardRef};
use crate::error::Result;
use crate::figures;
use crate::gpu::{ForwardOutput, GpuContext};
use crate::notation::{self, Notation};
use crate::notebook;
use crate::pictures::{self, sup, MapKind, Scale};
use crate::plots::PlotError;
use crate::shape::ConvShape;
use crate::tensor::Tensor4;

/// The notebook's figure 3.9 window positions (row, col), 0-based: top left, 5 px right,
/// 5 px down, bottom right (the last).
pub const WINDOW_POSITIONS: [(usize, usize); 4] = [(0, 0), (0, 5), (5, 0), (19, 19)];

/// The demo's biases b₁, b₂: slightly negative, so that weak responses are cut by the ReLU too.
pub const DEMO_BIAS: [f32; 2] = [-0.1, -0.1];

/// The files `Demo::pictures` makes, in order.
pub const PICTURES: [&str; 6] = [
    "input_windows.png",
    "notation.png",
    "pre_activation.png",
    "feature_maps.png",
    "filters.png",
    "relu.png",
];

/// Everything the demo computed.
pub struct Demo {
    pub shape: ConvShape,
    pub x: Tensor4,
    pub w: Tensor4,
    pub b: Vec<f32>,
    pub gpu: ForwardOutput,
    pub reference: ForwardRef,
    pub check: CaseResult,
}

/// Runs the notebook's layer on `x` (the built-in image when None; it must be (1, 1, 24, 24)).
pub fn run(ctx: &GpuContext, x: Option<Tensor4>) -> Result<Demo> {
    let shape = ConvShape::SEED;
    let x = x.unwrap_or_else(notebook::image);
    let w = notebook::filters();
    let b = DEMO_BIAS.to_vec();
    let gpu = ctx.conv2d_bias_relu_fwd(&shape, &x, &w, &b, true)?;
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &w.data, &b);
    let case = Case {
        family: "demo",
        shape,
        x: x.clone(),
        w: w.clone(),
        b: b.clone(),
    };
    let check = compare_forward(&case, &gpu.y, gpu.z.as_ref());
    Ok(Demo {
        shape,
        x,
        w,
        b,
        gpu,
        reference,
        check,
    })
}

impl Demo {
    /// The text the demo prints: output size, parameter count, and c¹₁,₁ step by step.
    pub fn report(&self) -> String {
        let s = &self.shape;
        let mut out = String::new();
        let _ = writeln!(out, "The notebook's layer: {s}");
        let _ = writeln!(
            out,
            "Output size: ({h} − {r})/{st} + 1 = {p}, so each filter gives a {p}×{q} feature map.",
            h = s.h,
            r = s.r,
            st = s.stride.0,
            p = s.p(),
            q = s.q()
        );
        let _ = writeln!(
            out,
            "Parameters: {r}×{ss}×{k} = {wl} weights + {k} biases = {total}.",
            r = s.r,
            ss = s.s,
            k = s.k,
            wl = s.weight_len(),
            total = s.param_count()
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "c¹₁,₁ = f(Σᵢ Σⱼ w¹ᵢ,ⱼ · xᵢ,ⱼ + b₁), f = ReLU, over the top-left 5×5 window:"
        );
        let _ = writeln!(
            out,
            "  {:<36}{:<46}w¹ᵢ,ⱼ · xᵢ,ⱼ",
            "x (rows 1-5, cols 1-5)", "w¹"
        );
        let mut sum = 0.0f64;
        for i in 0..5 {
            let (mut xs, mut ws, mut ps) = (String::new(), String::new(), String::new());
            for j in 0..5 {
                let (wv, xv) = (self.w.at(0, 0, i, j), self.x.at(0, 0, i, j));
                let term = f64::from(wv) * f64::from(xv);
                sum += term;
                let _ = write!(xs, "{xv:>7.3}");
                let _ = write!(ws, "{wv:>+9.4}");
                let _ = write!(ps, "{term:>+9.4}");
            }
            let _ = writeln!(out, "  {xs:<36}{ws:<46}{ps}");
        }
        let b1 = f64::from(self.b[0]);
        let z = sum + b1;
        let c = z.max(0.0);
        let _ = writeln!(out, "  sum of the 25 products  = {sum:+.6}");
        let _ = writeln!(out, "  + b₁ ({b1:+.4})         = {z:+.6}");
        let _ = writeln!(out, "  ReLU: max(0, {z:+.6}) = {c:.6}");
        let gpu_z = self.gpu.z.as_ref().map_or(f32::NAN, |z| z.at(0, 0, 0, 0));
        let _ = writeln!(
            out,
            "  GPU: z = {gpu_z:+.6}, c¹₁,₁ = {:.6}    CPU (f64): z = {:+.6}, c¹₁,₁ = {:.6}",
            self.gpu.y.at(0, 0, 0, 0),
            self.reference.z[0],
            self.reference.y[0]
        );
        let _ = writeln!(out);
        for k in 0..s.k as usize {
            let plane = &self.gpu.y.data[k * 400..(k + 1) * 400];
            let zplane = &self.reference.z[k * 400..(k + 1) * 400];
            let cut = zplane.iter().filter(|&&v| v < 0.0).count();
            let max = plane.iter().fold(0.0f32, |m, &v| m.max(v));
            let _ = writeln!(
                out,
                "Feature map c{}: max {max:.3}; ReLU set {cut} of 400 values to 0 (pre-activation < 0).",
                sup(k + 1)
            );
        }
        let _ = writeln!(
            out,
            "GPU vs CPU: {} outputs, {} over their bound, worst error {:.3e} of its bound.",
            self.check.y.checked + self.check.z.checked,
            self.check.y.over + self.check.z.over,
            self.check.worst_ratio()
        );
        out
    }

    /// The PNGs: file name and picture (see `PICTURES`).
    pub fn pictures(&self) -> Result<Vec<(&'static str, RgbImage)>, PlotError> {
        let z = self.gpu.z.as_ref().unwrap_or(&self.gpu.y);
        let notation = Notation {
            x: &self.x,
            w: &self.w,
            b: &self.b,
            z,
            y: &self.gpu.y,
        };
        let windows = pictures::input_with_windows(&self.x, 5, 5, &WINDOW_POSITIONS)?;
        Ok(vec![
            ("input_windows.png", windows),
            (
                "pre_activation.png",
                pictures::map_grid(z, MapKind::PreActivation, Scale::Shared)?,
            ),
            (
                "feature_maps.png",
                pictures::map_grid(&self.gpu.y, MapKind::PostRelu, Scale::Shared)?,
            ),
            ("filters.png", pictures::filter_grid(&self.w)?),
            ("relu.png", figures::relu_figure(&z.data, &self.gpu.y.data)?),
            ("notation.png", notation::notation_figure(&notation)?),
        ])
    }
}
