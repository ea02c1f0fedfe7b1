//! The network ops on the GPU against their f64 twins, per element, on random shapes: the conv
//! backward for any dy (every version, every layer option, with and without ReLU), max
//! pooling, the Linear layer, mse_loss, cross_entropy and the SGD optimiser. Each bound is
//! reasoned where it is used; every op is also run twice and compared bit for bit.

mod common;

use common::gpu;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::compare::{compare, sum_bound, Comparison};
use wgconv::cpu::{self, widen, PoolShape};
use wgconv::gpu::KernelVersion;
use wgconv::{
    cross_entropy, mse_loss, Activation, BackwardOptions, Conv2d, Conv2dConfig, DeviceIndices,
    DeviceLabels, DeviceTensor, Linear, MaxPool2d, Tensor4,
};

fn random(rng: &mut ChaCha8Rng, dims: [usize; 4], a: f32) -> Tensor4 {
    let len = dims.iter().product();
    Tensor4::new(
        "t",
        dims,
        (0..len).map(|_| rng.random_range(-a..=a)).collect(),
    )
    .unwrap()
}

fn up(t: &Tensor4) -> DeviceTensor {
    DeviceTensor::upload(gpu(), "t", t).unwrap()
}

fn down(t: &DeviceTensor) -> Tensor4 {
    t.download(gpu()).unwrap()
}

fn assert_passed(what: &str, c: Comparison) -> f64 {
    assert!(
        c.passed(),
        "{what}: {} of {} over, worst {:?}",
        c.over,
        c.checked,
        c.worst
    );
    c.worst_ratio()
}

fn bits(t: &Tensor4) -> Vec<u32> {
    t.data.iter().map(|v| v.to_bits()).collect()
}

/// The conv backward against the twins on the generator's random shapes (every family), each
/// version of dW and dX, with ReLU and without.
#[test]
fn conv_backward_matches_the_twin_on_random_shapes() {
    let ctx = gpu();
    let mut generator = wgconv::check::CaseGenerator::new(16);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut worst = [0.0f64; 3];
    let mut windows = 0;
    for case_no in 0..60 {
        let case = generator.next_case();
        let shape = case.shape;
        let activation = if case_no % 3 == 0 {
            Activation::None
        } else {
            Activation::Relu
        };
        let config = Conv2dConfig::of_shape(&shape).with_activation(activation);
        let bias = shape.bias.then_some(&case.b[..]);
        let layer = Conv2d::from_weights(ctx, config, &case.w, bias).unwrap();
        let x = up(&case.x);
        let (y, saved) = layer.forward_train(&x).unwrap();
        let dy = random(&mut rng, y.dims(), 1.0);
        let dy_dev = up(&dy);
        // The twin's dz from the GPU's own y (the mask is read off it, as the kernel does).
        let y_host = widen(&down(&y).data);
        let dz = match activation {
            Activation::Relu => cpu::relu_bwd(&y_host, &widen(&dy.data)),
            Activation::None => widen(&dy.data),
        };
        let gref = cpu::conv2d_bwd_weight(&shape, &widen(&case.x.data), &dz);
        let xref = cpu::conv2d_bwd_input(&shape, &widen(&case.w.data), &dz);
        let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
        let levels = if shape.padding_mode == wgconv::PaddingMode::Zeros {
            1
        } else {
            2
        };
        let mut simple_dx = Vec::new();
        for version in KernelVersion::WINDOWED {
            let mut options = BackwardOptions {
                input_grad: true,
                weight_kernel: Some(version),
                input_kernel: Some(version),
            };
            // The window dW holds at most 64 taps: refused beyond, and dX checked beside the
            // simple dW.
            if version == KernelVersion::Window && shape.r * shape.s > 64 {
                let err = layer.backward_with(&saved, &dy_dev, options).unwrap_err();
                assert!(err.to_string().contains("at most 64 taps"), "{err}");
                options.weight_kernel = Some(KernelVersion::Simple);
            } else {
                windows += u32::from(version == KernelVersion::Window);
            }
            let g = layer.backward_with(&saved, &dy_dev, options).unwrap();
            // dW, db: f32 sums of N·P·Q products (any order, two levels when split): γ bound.
            let dw = down(&g.weight);
            let c = compare(
                &dw.data,
                &gref.dw,
                |i| sum_bound(npq + 1, gref.dw_abs[i]),
                dw.dims,
            );
            worst[0] = worst[0].max(assert_passed(&format!("dw {shape} {version:?}"), c));
            if let Some(db) = &g.bias {
                let db = down(db);
                let c = compare(
                    &db.data,
                    &gref.db,
                    |i| sum_bound(npq + 1, gref.db_abs[i]),
                    db.dims,
                );
                worst[1] = worst[1].max(assert_passed(&format!("db {shape} {version:?}"), c));
            }
            // dX: the products reaching each pixel, plus the fold's level for copying modes.
            let dx = down(g.input.as_ref().unwrap());
            let bound = |i: usize| sum_bound(levels * xref.dx_terms[i] + 1, xref.dx_abs[i]);
            let c = compare(&dx.data, &xref.dx, bound, dx.dims);
            worst[2] = worst[2].max(assert_passed(&format!("dx {shape} {version:?}"), c));
            // The window dX sums each element as the simple one does: the same values, bit for
            // bit but for the sign of a zero sum (llvmpipe turns the simple kernel's first
            // 0 + x into x, so a sum of -0 products stays -0 there).
            match version {
                KernelVersion::Simple => simple_dx = dx.data.clone(),
                KernelVersion::Window => {
                    for (i, (a, b)) in dx.data.iter().zip(&simple_dx).enumerate() {
                        let same = a.to_bits() == b.to_bits() || (*a == 0.0 && *b == 0.0);
                        assert!(same, "window dx {shape} at {i}: {a} against simple {b}");
                    }
                }
                KernelVersion::Tiled => {}
            }
            // Repeatable bit for bit.
            let again = layer.backward_with(&saved, &dy_dev, options).unwrap();
            assert_eq!(bits(&down(&again.weight)), bits(&dw), "dw not repeatable");
            assert_eq!(bits(&down(again.input.as_ref().unwrap())), bits(&dx));
        }
    }
    eprintln!(
        "worst error / bound: dw {:.3}, db {:.3}, dx {:.3}; {windows} shapes ran the window dW",
        worst[0], worst[1], worst[2]
    );
    assert!(
        windows >= 50,
        "only {windows} of 60 shapes ran the window dW"
    );
}

/// The window dW of rows of one column (Q = 1: a linear layer's 1×1 convolution, and windows
/// reaching into zero and reflect padding) against the twin: it takes its own path there
/// (`add_column`), which the random shapes reach seldom.
#[test]
fn the_window_weight_gradient_of_one_column_matches_the_twin() {
    use wgconv::{ConvShapeSpec, Padding, PaddingMode};
    let specs = [
        // A linear layer of 37 features → 6, batch 9 (K not a multiple of the block of 4).
        ConvShapeSpec {
            n: 9,
            c: 37,
            h: 1,
            w: 1,
            k: 6,
            r: 1,
            s: 1,
            ..Default::default()
        },
        // Q = 1 with 3 × 3 taps, some in zero padding; two groups; no bias.
        ConvShapeSpec {
            n: 3,
            c: 4,
            h: 5,
            w: 2,
            k: 6,
            r: 3,
            s: 3,
            padding: Padding::symmetric(1, 1),
            stride: (2, 3),
            groups: 2,
            bias: false,
            ..Default::default()
        },
        // Q = 1 in reflect padding, dilated.
        ConvShapeSpec {
            n: 2,
            c: 3,
            h: 6,
            w: 3,
            k: 5,
            r: 2,
            s: 2,
            padding: Padding::symmetric(1, 1),
            dilation: (1, 2),
            stride: (1, 3),
            padding_mode: PaddingMode::Reflect,
            ..Default::default()
        },
    ];
    for spec in specs {
        let shape = wgconv::ConvShape::new(spec).unwrap();
        assert_eq!(shape.q(), 1, "{shape}");
        window_weight_grad_matches_the_twin(shape);
    }
}

/// The window dW's and dX's sliding paths with windows of 5 to 9 taps a row, whose later taps
/// read the packed rows of x (dz) past the first twelve columns (a vec4 loaded every fourth
/// tap), rows of 2 to 20 outputs, zero padding at the sides: against the twin, and dX bit for bit
/// against the simple version.
#[test]
fn the_window_gradients_of_wide_windows_match_the_twin() {
    use wgconv::{ConvShapeSpec, Padding};
    for (s, w, left, right) in [
        (5, 9, 0, 0),
        (6, 8, 2, 1),
        (7, 23, 3, 0),
        (9, 12, 1, 4),
        (8, 9, 0, 0),
    ] {
        let spec = ConvShapeSpec {
            n: 2,
            c: 3,
            h: 4,
            w,
            k: 5,
            r: 2,
            s,
            padding: Padding {
                top: 1,
                bottom: 0,
                left,
                right,
            },
            ..Default::default()
        };
        let shape = wgconv::ConvShape::new(spec).unwrap();
        assert!(wgconv::gpu::grids::window_slides(&shape), "{shape}");
        window_weight_grad_matches_the_twin(shape);
        window_input_grad_matches_the_twin(shape);
    }
}

/// The window dX of `shape` (no activation, a random dy) against the twin, and bit for bit
/// against the simple dX (the same sums in the same order; a zero sum's sign aside).
fn window_input_grad_matches_the_twin(shape: wgconv::ConvShape) {
    let (case, layer, saved, dy) = layer_and_dy(shape, 4);
    let dx_of = |version| {
        let options = BackwardOptions {
            input_grad: true,
            weight_kernel: Some(KernelVersion::Simple),
            input_kernel: Some(version),
        };
        let g = layer.backward_with(&saved, &up(&dy), options).unwrap();
        down(g.input.as_ref().unwrap())
    };
    let (window, simple) = (dx_of(KernelVersion::Window), dx_of(KernelVersion::Simple));
    let xref = cpu::conv2d_bwd_input(&shape, &widen(&case.w.data), &widen(&dy.data));
    // An f32 sum of the products reaching each pixel: the γ bound of that many terms.
    let bound = |i: usize| sum_bound(xref.dx_terms[i] + 1, xref.dx_abs[i]);
    let c = compare(&window.data, &xref.dx, bound, window.dims);
    assert_passed(&format!("dx {shape}"), c);
    for (i, (a, b)) in window.data.iter().zip(&simple.data).enumerate() {
        let same = a.to_bits() == b.to_bits() || (*a == 0.0 && *b == 0.0);
        assert!(same, "window dx {shape} at {i}: {a} against simple {b}");
    }
}

/// A layer of `shape` without activation on the generator's inputs of `seed`, its training
/// forward, and a random dy.
fn layer_and_dy(
    shape: wgconv::ConvShape,
    seed: u64,
) -> (wgconv::check::Case, Conv2d, wgconv::Conv2dSaved, Tensor4) {
    let case = wgconv::check::CaseGenerator::new(seed).inputs(shape, "window gradients");
    let config = Conv2dConfig::of_shape(&shape).with_activation(Activation::None);
    let bias = shape.bias.then_some(&case.b[..]);
    let layer = Conv2d::from_weights(gpu(), config, &case.w, bias).unwrap();
    let (y, saved) = layer.forward_train(&up(&case.x)).unwrap();
    let dy = random(&mut ChaCha8Rng::seed_from_u64(seed + 18), y.dims(), 1.0);
    (case, layer, saved, dy)
}

/// The window dW of `shape` (no activation, a random dy) against the twin, element by element.
fn window_weight_grad_matches_the_twin(shape: wgconv::ConvShape) {
    let (case, layer, saved, dy) = layer_and_dy(shape, 3);
    let options = BackwardOptions {
        input_grad: false,
        weight_kernel: Some(KernelVersion::Window),
        input_kernel: None,
    };
    let g = layer.backward_with(&saved, &up(&dy), options).unwrap();
    let gref = cpu::conv2d_bwd_weight(&shape, &widen(&case.x.data), &widen(&dy.data));
    // f32 sums of N·P·Q products, two levels when split: the γ bound of N·P·Q + 1 terms.
    let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
    let dw = down(&g.weight);
    let bound = |i: usize| sum_bound(npq + 1, gref.dw_abs[i]);
    assert_passed(
        &format!("dw {shape}"),
        compare(&dw.data, &gref.dw, bound, dw.dims),
    );
    if let Some(db) = &g.bias {
        let db = down(db);
        let bound = |i: usize| sum_bound(npq + 1, gref.db_abs[i]);
        assert_passed(
            &format!("db {shape}"),
            compare(&db.data, &gref.db, bound, db.dims),
        );
    }
}

/// A layer without activation is `nn.Conv2d`: y = z, negative values kept.
#[test]
fn a_layer_without_activation_keeps_negative_outputs() {
    let ctx = gpu();
    let w = Tensor4::new("w", [1, 1, 1, 1], vec![-2.0]).unwrap();
    let config = Conv2dConfig::new(1, 1, (1, 1)).with_activation(Activation::None);
    let layer = Conv2d::from_weights(ctx, config, &w, Some(&[0.5])).unwrap();
    let x = up(&Tensor4::new("x", [1, 1, 1, 3], vec![1.0, 0.0, -1.0]).unwrap());
    assert_eq!(down(&layer.forward(&x).unwrap()).data, [-1.5, 0.5, 2.5]);
    let relu =
        Conv2d::from_weights(ctx, Conv2dConfig::new(1, 1, (1, 1)), &w, Some(&[0.5])).unwrap();
    assert_eq!(down(&relu.forward(&x).unwrap()).data, [0.0, 0.5, 2.5]);
}

/// Max pooling against the twin: random windows, strides and padding; values from a small set so
/// that ties are common (the first maximum must win); the backward exact (at most a few
/// additions of dy values, each representable).
#[test]
fn max_pool_matches_the_twin_with_ties() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..60 {
        let kernel = (rng.random_range(1..=4), rng.random_range(1..=4));
        let stride = (rng.random_range(1..=4), rng.random_range(1..=4));
        let padding = (
            rng.random_range(0..=kernel.0 / 2),
            rng.random_range(0..=kernel.1 / 2),
        );
        let dims = [
            rng.random_range(1..=3),
            rng.random_range(1..=3),
            rng.random_range(kernel.0..=12),
            rng.random_range(kernel.1..=12),
        ];
        let len = dims.iter().product();
        let data: Vec<f32> = (0..len)
            .map(|_| rng.random_range(-3..=3) as f32 * 0.5)
            .collect();
        let x = Tensor4::new("x", dims, data).unwrap();
        let pool = MaxPool2d {
            kernel: (kernel.0 as u32, kernel.1 as u32),
            stride: (stride.0 as u32, stride.1 as u32),
            padding: (padding.0 as u32, padding.1 as u32),
        };
        let shape = PoolShape {
            x_dims: dims,
            kernel,
            stride,
            padding,
        };
        let (yref, argmax) = cpu::max_pool2d_fwd(&shape, &widen(&x.data));
        let (y, saved) = pool.forward_train(&up(&x)).unwrap();
        let y = down(&y);
        // A maximum is one of the inputs: exact.
        assert_eq!(
            y.data,
            yref.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            "{shape:?}"
        );
        let dy = Tensor4::new(
            "dy",
            y.dims,
            (0..y.data.len()).map(|i| (i % 7) as f32 - 3.0).collect(),
        )
        .unwrap();
        let dx = down(&pool.backward(&saved, &up(&dy)).unwrap());
        let dxref = cpu::max_pool2d_bwd(&shape, &argmax, &widen(&dy.data));
        // Sums of a few small integers: exact in f32, so the first-maximum rule is checked too.
        assert_eq!(
            dx.data,
            dxref.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            "{shape:?}"
        );
    }
}

/// Linear as PyTorch's: y = W·flatten(x) + b, against the conv twin of the 1×1 layer it runs
/// as (the bound of an f32 sum of in + 1 terms), and its gradients (sums of N terms for dW, db;
/// of out terms for dX).
#[test]
fn linear_matches_the_twin() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (n, c, h, w, out) in [
        (3, 2, 3, 4, 5),
        (64, 2, 10, 10, 10),
        (5, 300, 1, 1, 70),
        (2, 1, 1, 1, 1),
    ] {
        let inp = c * h * w;
        let weights = random(&mut rng, [out, inp, 1, 1], 0.5);
        let b: Vec<f32> = (0..out).map(|_| rng.random_range(-0.5..=0.5)).collect();
        let fc = Linear::from_weights(ctx, &weights, Some(&b)).unwrap();
        let x = random(&mut rng, [n, c, h, w], 1.0);
        let (y, saved) = fc.forward_train(&up(&x)).unwrap();
        assert_eq!(y.dims(), [n, out, 1, 1]);
        let shape = fc.as_conv().config().shape_for([n, inp, 1, 1]).unwrap();
        let fref = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &weights.data, &b);
        let y = down(&y);
        let c1 = compare(
            &y.data,
            &fref.z,
            |i| sum_bound(inp as u64 + 1, fref.abs_sum[i]),
            y.dims,
        );
        eprintln!("linear y {:.3}", assert_passed("linear y", c1));
        let dy = random(&mut rng, [n, out, 1, 1], 1.0);
        let g = fc.backward(&saved, &up(&dy), true).unwrap();
        let gref = cpu::conv2d_bwd_weight(&shape, &x.data, &dy.data);
        let dw = down(&g.weight);
        eprintln!(
            "linear dw {:.3}",
            assert_passed(
                "linear dw",
                compare(
                    &dw.data,
                    &gref.dw,
                    |i| sum_bound(n as u64 + 1, gref.dw_abs[i]),
                    dw.dims
                )
            )
        );
        let db = down(g.bias.as_ref().unwrap());
        eprintln!(
            "linear db {:.3}",
            assert_passed(
                "linear db",
                compare(
                    &db.data,
                    &gref.db,
                    |i| sum_bound(n as u64 + 1, gref.db_abs[i]),
                    db.dims
                )
            )
        );
        let dx = down(g.input.as_ref().unwrap());
        assert_eq!(dx.dims, [n, c, h, w], "dX comes back in x's own dims");
        let xref = cpu::conv2d_bwd_input(&shape, &weights.data, &dy.data);
        eprintln!(
            "linear dx {:.3}",
            assert_passed(
                "linear dx",
                compare(
                    &dx.data,
                    &xref.dx,
                    |i| sum_bound(xref.dx_terms[i] + 1, xref.dx_abs[i]),
                    dx.dims
                )
            )
        );
    }
}

/// mse_loss of any two tensors: L within the loss bound (`compare::loss_bound`), dL/dpred =
/// 2(p − t)/M within three roundings (`compare::dz_bound`), no ReLU mask (negative predictions
/// keep their gradient).
#[test]
fn mse_loss_matches_the_twin() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for dims in [[1, 1, 1, 1], [2, 3, 4, 5], [7, 1, 300, 13]] {
        let p = random(&mut rng, dims, 2.0);
        let t = random(&mut rng, dims, 2.0);
        let (loss, grad) = mse_loss(ctx, &up(&p), &up(&t)).unwrap();
        let r = cpu::mse_loss(&widen(&p.data), &widen(&t.data));
        let m = p.data.len() as u64;
        let loss = down(&loss).data[0];
        eprintln!(
            "mse loss {:.3}",
            assert_passed(
                "mse loss",
                compare(
                    &[loss],
                    &[r.loss],
                    |_| wgconv::compare::loss_bound(m, r.loss),
                    [1, 1, 1, 1]
                )
            )
        );
        let g = down(&grad);
        eprintln!(
            "mse grad {:.3}",
            assert_passed(
                "mse grad",
                compare(
                    &g.data,
                    &r.grad,
                    |i| wgconv::compare::dz_bound(r.grad[i]),
                    g.dims
                )
            )
        );
        if m > 8 {
            // Predictions below their target keep their (negative) gradient: no ReLU mask.
            assert!(r.grad.iter().any(|&v| v < 0.0) && g.data.iter().any(|&v| v < 0.0));
        }
    }
}

/// cross_entropy against the twin, with logits up to ±60 (exp would overflow f32 unshifted past
/// 88); the bounds (`compare::cross_entropy_loss_bound`, `cross_entropy_grad_bound`) are
/// reasoned there from WGSL's exp and log accuracy and the f32 sums.
#[test]
fn cross_entropy_matches_the_twin_and_is_stable() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (n, classes, scale) in [(1, 2, 1.0), (64, 10, 4.0), (300, 10, 60.0), (9, 1000, 3.0)] {
        let logits = random(&mut rng, [n, classes, 1, 1], scale);
        let labels: Vec<u32> = (0..n)
            .map(|_| rng.random_range(0..classes as u32))
            .collect();
        let dev_labels = DeviceLabels::upload(ctx, &labels, classes as u32).unwrap();
        let (loss, grad) = cross_entropy(ctx, &up(&logits), &dev_labels).unwrap();
        let z = widen(&logits.data);
        let r = cpu::cross_entropy(&z, &labels, classes);
        let rows = cpu::cross_entropy_rows(&z, &labels, classes);
        let loss_bound = wgconv::compare::cross_entropy_loss_bound(&z, &labels, &rows, r.loss);
        let loss = down(&loss).data[0];
        eprintln!(
            "{} {:.3}",
            &format!("ce loss {n}×{classes}"),
            assert_passed(
                &format!("ce loss {n}×{classes}"),
                compare(&[loss], &[r.loss], |_| loss_bound, [1, 1, 1, 1])
            )
        );
        let g = down(&grad);
        let bound = |i: usize| {
            let row = &z[(i / classes) * classes..][..classes];
            wgconv::compare::cross_entropy_grad_bound(row, i % classes, r.grad[i], n)
        };
        eprintln!(
            "{} {:.3}",
            &format!("ce grad {n}×{classes}"),
            assert_passed(
                &format!("ce grad {n}×{classes}"),
                compare(&g.data, &r.grad, bound, g.dims)
            )
        );
    }
}

/// NaN goes through every op as in PyTorch, never silently 0: a NaN pixel makes NaN outputs
/// through conv + ReLU, max pooling and the linear layer, and a NaN logit a NaN loss.
#[test]
fn nan_propagates_through_every_op() {
    let ctx = gpu();
    let mut x = Tensor4::zeros([1, 1, 4, 4]);
    x.data[5] = f32::NAN;
    let conv = Conv2d::from_weights(
        ctx,
        Conv2dConfig::new(1, 1, (1, 1)),
        &Tensor4::new("w", [1, 1, 1, 1], vec![1.0]).unwrap(),
        Some(&[0.0]),
    )
    .unwrap();
    let y = conv.forward(&up(&x)).unwrap();
    assert!(down(&y).data[5].is_nan(), "conv + ReLU");
    let p = MaxPool2d::new(2, 2).forward(&y).unwrap();
    assert!(down(&p).data[0].is_nan(), "max pool");
    let fc = Linear::new(ctx, 4, 3, 0).unwrap();
    let logits = fc.forward(&p).unwrap();
    assert!(down(&logits).data.iter().all(|v| v.is_nan()), "linear");
    let labels = DeviceLabels::upload(ctx, &[1], 3).unwrap();
    let (loss, _) = cross_entropy(ctx, &logits, &labels).unwrap();
    assert!(down(&loss).data[0].is_nan(), "cross-entropy");
}

/// A tensor used with another context is an error naming it, never a wrong result; labels out
/// of range and mismatched dims are refused.
#[test]
fn wrong_context_and_bad_inputs_are_errors() {
    let ctx = gpu();
    let other = wgconv::GpuContext::new(&wgconv::AdapterRequest::from_env()).unwrap();
    let x = DeviceTensor::upload(
        &other,
        "x",
        &Tensor4::new("x", [1, 4, 1, 1], vec![10., 20., 30., 40.]).unwrap(),
    )
    .unwrap();
    let identity = Conv2d::from_weights(
        ctx,
        Conv2dConfig::new(4, 4, (1, 1)).with_bias(false),
        &Tensor4::new(
            "w",
            [4, 4, 1, 1],
            (0..16).map(|i| f32::from(i % 5 == 0)).collect(),
        )
        .unwrap(),
        None,
    )
    .unwrap();
    let e = identity.forward(&x).unwrap_err();
    assert!(matches!(e, wgconv::Error::WrongContext { .. }), "{e}");
    assert!(e.to_string().contains("another GpuContext"), "{e}");
    assert!(x.download(ctx).is_err());
    assert!(DeviceLabels::upload(ctx, &[0, 3], 3)
        .unwrap_err()
        .to_string()
        .contains("label 3"));
    let logits = DeviceTensor::zeros(ctx, "z", [2, 4, 1, 1]).unwrap();
    let labels = DeviceLabels::upload(ctx, &[0, 1], 3).unwrap();
    assert!(cross_entropy(ctx, &logits, &labels).is_err());
    let a = DeviceTensor::zeros(ctx, "a", [1, 1, 2, 2]).unwrap();
    let b = DeviceTensor::zeros(ctx, "b", [1, 1, 1, 4]).unwrap();
    assert!(mse_loss(ctx, &a, &b).is_err());
    assert!(
        MaxPool2d::new(3, 1).forward(&a).is_err(),
        "window larger than the input"
    );
    assert!(
        MaxPool2d::new(2, 2)
            .with_padding((2, 0))
            .forward(&a)
            .is_err(),
        "padding over half"
    );
    assert!(
        Linear::new(ctx, 5, 2, 0).unwrap().forward(&a).is_err(),
        "4 features for 5"
    );
}

/// Every new op twice on the same inputs gives the same bits (fixed-order sums, no atomics).
#[test]
fn every_op_is_repeatable_bit_for_bit() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let x = up(&random(&mut rng, [16, 3, 12, 12], 1.0));
    let pool = MaxPool2d::new(3, 2);
    let (y, saved) = pool.forward_train(&x).unwrap();
    let dy = up(&random(&mut rng, y.dims(), 1.0));
    let fc = Linear::new(ctx, 3 * 5 * 5, 7, 2).unwrap();
    let (logits, fc_saved) = fc.forward_train(&y).unwrap();
    let labels =
        DeviceLabels::upload(ctx, &(0..16).map(|i| i % 7).collect::<Vec<u32>>(), 7).unwrap();
    let target = up(&random(&mut rng, logits.dims(), 1.0));
    let run = || {
        let (ce, dce) = cross_entropy(ctx, &logits, &labels).unwrap();
        let (mse, dmse) = mse_loss(ctx, &logits, &target).unwrap();
        let g = fc.backward(&fc_saved, &dce, true).unwrap();
        let outs = [
            pool.forward(&x).unwrap(),
            pool.backward(&saved, &dy).unwrap(),
            fc.forward(&y).unwrap(),
            ce,
            dce,
            mse,
            dmse,
            g.weight,
            g.input.unwrap(),
        ];
        outs.iter().map(|t| bits(&down(t))).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

/// Batches cut on the device equal the twin's gather bit for bit (NaN and −0.0 included, as
/// a copy must), for tensors and labels; bad indices, ranges and data are errors.
#[test]
fn gather_matches_the_twin_and_refuses_bad_input() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut data = random(&mut rng, [37, 2, 3, 5], 4.0);
    data.data[7] = f32::NAN;
    data.data[40] = -0.0;
    let labels: Vec<u32> = (0..37).map(|_| rng.random_range(0..10)).collect();
    let mut order: Vec<u32> = (0..37).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let x = up(&data);
    let y = DeviceLabels::upload(ctx, &labels, 10).unwrap();
    let indices = DeviceIndices::upload(ctx, &order, 37).unwrap();
    for range in [0..16, 16..32, 32..37, 5..6] {
        let got = down(&x.gather(&indices, range.clone()).unwrap());
        assert_eq!(got.dims, [range.len(), 2, 3, 5]);
        let want = cpu::gather_rows(&data.data, 30, &order[range.clone()]);
        let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits(&got), want, "rows {range:?}");
        let got_labels = y.gather(&indices, range.clone()).unwrap();
        assert_eq!(got_labels.len(), range.len());
        assert_eq!(got_labels.classes(), 10);
        // The gathered labels are what cross_entropy reads: its per-row gradient names them.
        let logits =
            up(&Tensor4::new("l", [range.len(), 10, 1, 1], vec![0.0; range.len() * 10]).unwrap());
        let (_, dlogits) = cross_entropy(ctx, &logits, &got_labels).unwrap();
        let d = down(&dlogits);
        for (row, &j) in order[range.clone()].iter().enumerate() {
            let hot = d.data[row * 10..row * 10 + 10]
                .iter()
                .position(|&v| v < 0.0);
            assert_eq!(hot, Some(labels[j as usize] as usize), "label of row {row}");
        }
    }
    let err = |r: wgconv::Result<DeviceTensor>| r.unwrap_err().to_string();
    assert!(err(x.gather(&indices, 30..38)).contains("range"));
    assert!(err(x.gather(&indices, 3..3)).contains("range"));
    let other = up(&random(&mut rng, [36, 2, 3, 5], 1.0));
    assert!(err(other.gather(&indices, 0..4)).contains("37 rows"));
    let e = DeviceIndices::upload(ctx, &[0, 37], 37)
        .unwrap_err()
        .to_string();
    assert!(e.contains("index 37 (at 1)"), "{e}");
}
