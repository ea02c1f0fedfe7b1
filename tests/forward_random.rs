//! GPU forward vs the f64 reference on random shapes, and the grid-folding case.

mod common;

use wgconv::check::{run_case, CaseGenerator, FAMILIES};
use wgconv::compare::{compare, forward_bound};
use wgconv::gpu::KernelVersion;
use wgconv::{cpu, ConvShape, ConvShapeSpec, Tensor4};
use wgconv::{Padding, PaddingMode};

#[test]
fn random_shapes_match_the_reference() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(0x5eed);
    let cases = 20 * FAMILIES.len();
    let mut seen = [0usize; FAMILIES.len()];
    let mut failures = Vec::new();
    let mut worst: f64 = 0.0;
    let (
        mut stride,
        mut asym_pad,
        mut non_square,
        mut one_by_one,
        mut full_kernel,
        mut batch,
        mut channels,
        mut k_odd,
    ) = (0, 0, 0, 0, 0, 0, 0, 0);
    // The options of PyTorch's Conv2d beyond stride and symmetric zero padding.
    let mut options = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..cases {
        let case = gen.next_case();
        let s = case.shape;
        seen[FAMILIES
            .iter()
            .position(|f| *f == case.family)
            .expect("family")] += 1;
        stride += usize::from(s.stride.0 > 1 || s.stride.1 > 1);
        asym_pad += usize::from(s.padding.top != s.padding.left);
        non_square += usize::from(s.r != s.s && s.h != s.w);
        one_by_one += usize::from(s.r == 1 && s.s == 1);
        full_kernel += usize::from(
            s.p() == 1 && s.q() == 1 && u64::from(s.r) == u64::from(s.h) + s.padding.rows(),
        );
        batch += usize::from(s.n > 1);
        channels += usize::from(s.c > 1);
        k_odd += usize::from(s.k > 64 && !s.k.is_multiple_of(64));
        let p = s.padding;
        for (what, yes) in [
            (
                "dilation > 1 with padding",
                s.dilation != (1, 1) && p != Padding::ZERO,
            ),
            ("groups > 1", s.groups > 1),
            (
                "depthwise with multiplier > 1",
                s.groups == s.c && s.k > s.c,
            ),
            ("4-sided padding", p.top != p.bottom || p.left != p.right),
            ("reflect", s.padding_mode == PaddingMode::Reflect),
            ("replicate", s.padding_mode == PaddingMode::Replicate),
            ("circular", s.padding_mode == PaddingMode::Circular),
            ("no bias", !s.bias),
        ] {
            *options.entry(what).or_default() += usize::from(yes);
        }
        for version in KernelVersion::WINDOWED {
            let result = run_case(ctx, &case, version).unwrap_or_else(|e| panic!("{s}: {e}"));
            worst = worst.max(result.worst_ratio());
            if !result.passed() {
                failures.push(format!(
                    "{} {s}: y {:?} z {:?}",
                    version.name(),
                    result.y,
                    result.z
                ));
            }
        }
    }
    eprintln!("{cases} cases, worst error = {worst:.3e} of its bound");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generator must actually produce what the issue asks to cover.
    for (family, count) in FAMILIES.iter().zip(seen) {
        assert!(count >= 20, "family {family} ran only {count} times");
    }
    for (what, count) in [
        ("stride > 1", stride),
        ("asymmetric padding", asym_pad),
        ("non-square kernel and image", non_square),
        ("1x1 kernel", one_by_one),
        ("kernel = padded input", full_kernel),
        ("N > 1", batch),
        ("C > 1", channels),
        ("K not a multiple of 64", k_odd),
    ] {
        assert!(count >= 10, "{what}: only {count} cases");
    }
    for (what, count) in options {
        assert!(count >= 10, "{what}: only {count} cases");
    }
}

/// 2048×2048 outputs = 4,194,304 > 65,535 workgroups × 64 invocations: the grid must fold
/// into y. A 1×1 kernel keeps the CPU side quick.
#[test]
fn grid_past_65535_workgroups_folds_into_y() {
    let ctx = common::gpu();
    let shape = ConvShape::new(ConvShapeSpec {
        n: 1,
        c: 1,
        h: 2048,
        w: 2048,
        k: 1,
        r: 1,
        s: 1,
        stride: (1, 1),
        padding: wgconv::Padding::symmetric(0, 0),
        ..Default::default()
    })
    .expect("valid");
    let groups = shape.output_len().div_ceil(64);
    assert!(groups > 65_535, "{groups} workgroups");
    let x = Tensor4 {
        dims: [1, 1, 2048, 2048],
        data: (0..2048 * 2048)
            .map(|i| ((i % 977) as f32 - 488.0) / 97.0)
            .collect(),
    };
    let w = Tensor4 {
        dims: [1, 1, 1, 1],
        data: vec![1.5],
    };
    let b = [0.25f32];
    let out = ctx
        .conv2d_bias_relu_fwd(&shape, &x, &w, &b, true)
        .expect("forward");
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &w.data, &b);
    let bound = |i: usize| forward_bound(&shape, reference.abs_sum[i]);
    let y = compare(&out.y.data, &reference.y, bound, out.y.dims);
    let z = compare(&out.z.expect("z").data, &reference.z, bound, out.y.dims);
    assert!(y.passed() && z.passed(), "y {y:?}\nz {z:?}");
    // The last element is computed by a workgroup far past 65,535 in x.
    let last = out.y.data.len() - 1;
    assert!((f64::from(out.y.data[last]) - reference.y[last]).abs() <= bound(last));
}

/// A batch whose tensors exceed the (lowered) binding cap is split into chunks of whole images
/// and gives the same result.
#[test]
fn batches_over_the_binding_limit_are_split() {
    let mut ctx = wgconv::GpuContext::new(&wgconv::AdapterRequest::from_env()).expect("adapter");
    let mut gen = CaseGenerator::new(7);
    let shape = ConvShape::new(ConvShapeSpec {
        n: 7,
        c: 2,
        h: 9,
        w: 11,
        k: 3,
        r: 3,
        s: 2,
        stride: (1, 2),
        padding: wgconv::Padding::symmetric(1, 0),
        ..Default::default()
    })
    .expect("valid");
    let case = gen.inputs(shape, "split");
    // One input image is 2·9·11·4 = 792 bytes: a 2,000-byte cap fits 2 images per chunk.
    ctx.set_binding_cap(2000);
    let out = ctx
        .conv2d_bias_relu_fwd(&shape, &case.x, &case.w, &case.b, true)
        .expect("forward");
    assert_eq!(out.chunks, 4);
    let r = wgconv::check::compare_forward(&case, &out.y, out.z.as_ref());
    assert!(r.passed(), "{r:?}");
    // A cap below one image is a clear error naming the limit.
    ctx.set_binding_cap(700);
    let e = ctx
        .conv2d_bias_relu_fwd(&shape, &case.x, &case.w, &case.b, false)
        .expect_err("one image does not fit");
    let msg = e.to_string();
    assert!(
        msg.contains("one input image") && msg.contains("binding cap"),
        "{msg}"
    );
}

/// Layers large enough for whole interior tiles of the tiled kernel: C·R·S a multiple of 4 (the
/// vec4 weight loads) and not (scalar loads), with edge tiles beside them.
#[test]
fn tiled_interior_and_edge_tiles() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(77);
    for (c, r, s) in [(4, 3, 3), (3, 3, 3), (2, 4, 4), (5, 1, 1)] {
        let shape = ConvShape::new(ConvShapeSpec {
            n: 2,
            c,
            h: 17,
            w: 19,
            k: 130,
            r,
            s,
            stride: (1, 1),
            padding: wgconv::Padding::symmetric(1, 1),
            ..Default::default()
        })
        .expect("valid");
        let case = gen.inputs(shape, "interior");
        let result = run_case(ctx, &case, KernelVersion::Tiled).expect("forward");
        assert!(result.passed(), "{shape}: {result:?}");
    }
}
