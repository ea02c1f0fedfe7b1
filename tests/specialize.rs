//! The simple kernels compiled for a layer's shape (`gpu::specialize`) compute the same bits as
//! the generic ones, on the generator's random shapes (every family: strides, padding modes,
//! dilation, groups, no bias, no ReLU); they did compile (no silent fall-back); the source
//! rewrite touches only whole `params.FIELD` names; and the unrolling writes out only counted
//! loops without `break` or `continue`.

mod common;

use common::device_bits as bits;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::gpu::specialize::{specialised_source, unrolled_loops};
use wgconv::gpu::KernelVersion;
use wgconv::{
    Activation, AdapterRequest, BackwardOptions, Conv2d, Conv2dConfig, DeviceTensor, GpuContext,
    Tensor4,
};

#[test]
fn the_rewrite_replaces_whole_field_names_only() {
    let src = "let a = params.k + params.kernel_h; let b = myparams.k; let c = params.k;";
    let out = specialised_source(src, &[("k", 7), ("kernel", 9)]);
    assert_eq!(
        out,
        "let a = 7u + params.kernel_h; let b = myparams.k; let c = 7u;"
    );
}

#[test]
fn the_unrolling_writes_out_counted_loops_only() {
    let src = "for (var r = 0u; r < 2u; r++) { for (var s = 0u; s < 2u; s++) { a += r * s; } }";
    let out = unrolled_loops(src);
    let inner = |r: u32| {
        format!("{{ let r = {r}u; {{ let s = 0u; a += r * s; }}{{ let s = 1u; a += r * s; }} }}")
    };
    assert_eq!(out, format!("{}{}", inner(0), inner(1)));
    for kept in [
        "for (var r = 0u; r < 2u; r++) { if (a > 0.0) { break; } }",
        "for (var r = 0u; r < 99u; r++) { a += 1.0; }",
        "for (var r = 1u; r < 2u; r++) { a += 1.0; }",
        "for (var r = 0u; r < n; r++) { a += 1.0; }",
    ] {
        assert_eq!(unrolled_loops(kept), kept);
    }
}

/// y, dW, db and dX of one layer on `x` and `dy`, through the simple kernels, then y through the
/// window forward, dX through the window dX, and dW and db through the window dW (unrolled when
/// specialised) where the window fits.
fn run(ctx: &GpuContext, layer: &Conv2d, x: &Tensor4, dy: &Tensor4) -> Vec<Vec<u32>> {
    let x = DeviceTensor::upload(ctx, "x", x).unwrap();
    let forward = |version| {
        let options = wgconv::ForwardOptions {
            want_z: false,
            kernel: Some(version),
        };
        layer.forward_with(&x, options).unwrap().y
    };
    let (_, saved) = layer.forward_train(&x).unwrap();
    let y = forward(KernelVersion::Simple);
    let dy = DeviceTensor::upload(ctx, "dy", dy).unwrap();
    let options = BackwardOptions {
        input_grad: true,
        weight_kernel: Some(KernelVersion::Simple),
        input_kernel: Some(KernelVersion::Simple),
    };
    let g = layer.backward_with(&saved, &dy, options).unwrap();
    let mut out = vec![bits(ctx, &y), bits(ctx, &g.weight)];
    out.extend(g.bias.as_ref().map(|b| bits(ctx, b)));
    out.extend(g.input.as_ref().map(|d| bits(ctx, d)));
    out.push(bits(ctx, &forward(KernelVersion::Window)));
    let window_dx = BackwardOptions {
        input_kernel: Some(KernelVersion::Window),
        ..options
    };
    let g = layer.backward_with(&saved, &dy, window_dx).unwrap();
    out.extend(g.input.as_ref().map(|d| bits(ctx, d)));
    let shape = saved.shape();
    if shape.r * shape.s <= wgconv::gpu::table::WINDOW_TAPS {
        let window = BackwardOptions {
            weight_kernel: Some(KernelVersion::Window),
            ..options
        };
        let g = layer.backward_with(&saved, &dy, window).unwrap();
        out.push(bits(ctx, &g.weight));
        out.extend(g.bias.as_ref().map(|b| bits(ctx, b)));
    }
    out
}

#[test]
fn specialised_kernels_give_the_generic_bits_on_random_shapes() {
    let ctx = GpuContext::new(&AdapterRequest::from_env()).expect("a GPU adapter");
    assert!(ctx.specializes(), "specialising is on by default natively");
    let mut generator = wgconv::check::CaseGenerator::new(23);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for case_no in 0..36 {
        let case = generator.next_case();
        let shape = case.shape;
        let activation = [Activation::Relu, Activation::None][case_no % 2];
        let config = Conv2dConfig::of_shape(&shape).with_activation(activation);
        let bias = shape.bias.then_some(&case.b[..]);
        let dims = [shape.n, shape.k, shape.p(), shape.q()].map(|d| d as usize);
        let len = dims.iter().product();
        let dy = Tensor4::new(
            "dy",
            dims,
            (0..len).map(|_| rng.random_range(-1.0..=1.0)).collect(),
        )
        .unwrap();
        ctx.set_specialize(false);
        let layer = Conv2d::from_weights(&ctx, config, &case.w, bias).unwrap();
        let generic = run(&ctx, &layer, &case.x, &dy);
        ctx.set_specialize(true);
        let layer = Conv2d::from_weights(&ctx, config, &case.w, bias).unwrap();
        let special = run(&ctx, &layer, &case.x, &dy);
        assert_eq!(generic.len(), special.len());
        for (i, (g, s)) in generic.iter().zip(&special).enumerate() {
            assert_eq!(
                g, s,
                "output {i} (y, dW, db, dX, window y, dW, db) of {shape} ({activation:?})"
            );
        }
    }
    let (compiled, failed) = ctx.specialised_counts();
    assert_eq!(failed, 0, "specialisations that failed to compile");
    // Forward, dW, dX and the window forward and dW of 36 shapes, some alike.
    assert!(
        compiled >= 60,
        "only {compiled} specialised kernels were compiled"
    );
}
