//! Kernels whose invocations run long loops, against the f64 twin. llvmpipe (lavapipe, Mesa's
//! GL) ends every loop of an invocation once it has run 65,535 iterations of them all, without
//! an error: the sums come out short. The random shapes of the other tests are too small to
//! reach it; these shapes did (the window dW gave zeros, or one sample's products, before its
//! splits were sized for it: `grids::window_splits`).

use wgconv::bench::{random_problem, validate};
use wgconv::compare::{compare, sum_bound};
use wgconv::cpu::{self, widen};
use wgconv::gpu::{BackwardOptions, KernelVersion, TrainVersions};
use wgconv::{AdapterRequest, Conv2d, Conv2dConfig, DeviceTensor, GpuContext};

/// (N, C, H, W, K, R, S, stride, pad): 24×24 or 26×26 outputs of 5×5 windows, 43 samples, so
/// that the window dW's invocations sum many rows (these reached the limit when the window dW
/// read one column at a time); and 280 rows of 56 outputs for 64 channels × 4 blocks of
/// filters, whose 256 invocations would each sum every row in 73,000 iterations (generic) with
/// the window dW of eight columns at a time, were its splits not sized for it.
const SHAPES: [&str; 4] = [
    "43,1,28,28,16,5,5,1,0",
    "43,1,28,28,32,5,5,1,0",
    "43,3,28,28,5,5,5,1,2",
    "5,64,60,60,16,5,5,1,0",
];

#[test]
fn the_window_weight_gradient_sums_every_row_of_long_invocations() {
    // A context of its own: the other tests' context keeps its specialisation on.
    let ctx = GpuContext::new(&AdapterRequest::from_env()).expect("a GPU adapter");
    for specialise in [false, true] {
        ctx.set_specialize(specialise);
        for text in SHAPES {
            let (_, shape) = wgconv::bench::parse_shape(text).unwrap();
            let (x, t, w, b) = random_problem(&shape, 17).unwrap();
            let config = Conv2dConfig::of_shape(&shape);
            let layer = Conv2d::from_weights(&ctx, config, &w, Some(&b[..])).unwrap();
            let (y, saved) = layer
                .forward_train(&DeviceTensor::upload(&ctx, "x", &x).unwrap())
                .unwrap();
            let dy = DeviceTensor::upload(&ctx, "dy", &t).unwrap();
            let options = BackwardOptions {
                input_grad: false,
                weight_kernel: Some(KernelVersion::Window),
                input_kernel: Some(KernelVersion::Simple),
            };
            let dw = layer.backward_with(&saved, &dy, options).unwrap().weight;
            let dw = dw.download(&ctx).unwrap();
            // The twin's dz through the ReLU mask of the GPU's own y.
            let y = widen(&y.download(&ctx).unwrap().data);
            let dz = cpu::relu_bwd(&y, &widen(&t.data));
            let reference = cpu::conv2d_bwd_weight(&shape, &widen(&x.data), &dz);
            // Each dW an f32 sum of N·P·Q products in two levels (splits, then their sum).
            let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
            let bound = |i: usize| sum_bound(npq + 1, reference.dw_abs[i]);
            let c = compare(&dw.data, &reference.dw, bound, dw.dims);
            assert!(c.passed(), "{shape}, specialised {specialise}: {c:?}");
        }
    }
}

/// The Trainer's window step (its own splits and bindings): every output of two steps against
/// the twin.
#[test]
fn the_trainers_window_step_matches_the_twin_on_long_invocations() {
    let ctx = GpuContext::new(&AdapterRequest::from_env()).expect("a GPU adapter");
    for text in SHAPES {
        let (_, shape) = wgconv::bench::parse_shape(text).unwrap();
        let v = validate(&ctx, &shape, TrainVersions::window()).unwrap();
        assert!(v.passed, "{shape}: worst {} of its bound", v.worst_ratio);
    }
}

/// The window forward and dX sum C/G (K/G) channels of R×S taps per invocation: past the
/// budget they are refused, saying why, and on CPU rules the layer falls back to a version
/// that is right (the window forward gave 0.98 off for this 7×7 layer before, specialised).
#[test]
fn the_window_forward_and_dx_refuse_reductions_past_the_loop_budget() {
    let ctx = GpuContext::new(&AdapterRequest::from_env()).expect("a GPU adapter");
    ctx.set_cpu_rules(true);
    let (_, shape) = wgconv::bench::parse_shape("2,1024,8,8,16,7,7,1,3").unwrap();
    let (x, _, w, b) = random_problem(&shape, 17).unwrap();
    let layer =
        Conv2d::from_weights(&ctx, Conv2dConfig::of_shape(&shape), &w, Some(&b[..])).unwrap();
    let xd = DeviceTensor::upload(&ctx, "x", &x).unwrap();
    let window = wgconv::ForwardOptions {
        want_z: false,
        kernel: Some(KernelVersion::Window),
    };
    let err = layer.forward_with(&xd, window).unwrap_err().to_string();
    assert!(
        err.contains("window forward") && err.contains("loop iterations"),
        "{err}"
    );
    // The rules' choice: each output within its summation bound of the twin.
    let y = layer.forward(&xd).unwrap().download(&ctx).unwrap();
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &w.data, &b);
    let terms = shape.reduction_len() + 1;
    let bound = |i: usize| sum_bound(terms, reference.abs_sum[i]);
    let c = compare(&y.data, &reference.y, bound, y.dims);
    assert!(c.passed(), "{shape}: {c:?}");
    // dX sums K/G = 4096 filters of 3×3 taps.
    let (_, wide) = wgconv::bench::parse_shape("1,4,4,4,4096,3,3,1,1").unwrap();
    let (x, t, w, b) = random_problem(&wide, 17).unwrap();
    let layer =
        Conv2d::from_weights(&ctx, Conv2dConfig::of_shape(&wide), &w, Some(&b[..])).unwrap();
    let (_, saved) = layer
        .forward_train(&DeviceTensor::upload(&ctx, "x", &x).unwrap())
        .unwrap();
    let dy = DeviceTensor::upload(&ctx, "dy", &t).unwrap();
    let options = BackwardOptions {
        input_grad: true,
        weight_kernel: Some(KernelVersion::Simple),
        input_kernel: Some(KernelVersion::Window),
    };
    let err = layer
        .backward_with(&saved, &dy, options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("window dX") && err.contains("loop iterations"),
        "{err}"
    );
}
