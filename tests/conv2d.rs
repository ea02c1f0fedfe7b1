//! The `Conv2d` layer: device-resident forward against the f64 reference, PyTorch's default
//! initialisation, a layer without bias, and training that hands the layer back.

mod common;

use wgconv::check::{compare_forward, CaseGenerator};
use wgconv::gpu::{
    Conv2d, Conv2dConfig, DeviceTensor, ForwardOptions, KernelVersion, TrainVersions, Trainer,
    TrainerOptions,
};
use wgconv::sgd::Sgd;
use wgconv::Tensor4;

#[test]
fn forward_on_device_tensors_matches_the_reference() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(11);
    // The window forward's blocks of filters the shapes ran (8, and 4 for small groups).
    let mut blocks = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let case = gen.next_case();
        blocks.insert(wgconv::gpu::grids::forward_filter_block(&case.shape));
        let config = Conv2dConfig::of_shape(&case.shape);
        let layer =
            Conv2d::from_weights(ctx, config, &case.w, case.shape.bias.then_some(&case.b[..]))
                .expect("layer");
        let x = DeviceTensor::upload(ctx, "x", &case.x).expect("upload");
        let mut simple_bits = Vec::new();
        for version in KernelVersion::WINDOWED {
            let options = ForwardOptions {
                want_z: true,
                kernel: Some(version),
            };
            let out = layer.forward_with(&x, options).expect("forward");
            let y = out.y.download(ctx).expect("y");
            // The window version sums each output as the simple one does: the same bits.
            let y_bits: Vec<u32> = y.data.iter().map(|v| v.to_bits()).collect();
            match version {
                KernelVersion::Simple => simple_bits = y_bits,
                KernelVersion::Window => assert_eq!(y_bits, simple_bits, "{}", case.shape),
                KernelVersion::Tiled => {}
            }
            let z = out.z.expect("z asked for").download(ctx).expect("z");
            // Each element within its own summation bound (compare.rs), for y and z.
            let result = compare_forward(&case, &y, Some(&z));
            assert!(result.passed(), "{} {version:?}: {result:?}", case.shape);
        }
        // Forward again on the same layer: the weights stay put and the answer repeats.
        let again = layer
            .forward(&x)
            .expect("forward")
            .download(ctx)
            .expect("y");
        let first = layer
            .forward(&x)
            .expect("forward")
            .download(ctx)
            .expect("y");
        assert_eq!(again, first);
    }
    assert_eq!(blocks.into_iter().collect::<Vec<_>>(), [4, 8]);
}

#[test]
fn default_initialisation_is_pytorchs_range_and_repeats_per_seed() {
    let ctx = common::gpu();
    let config = Conv2dConfig::new(3, 8, (3, 3));
    let read = |seed| {
        let layer = Conv2d::new(ctx, config, seed).expect("layer");
        let (w, b) = layer.read_weights().expect("read");
        (w, b.expect("has bias"))
    };
    let (w, b) = read(7);
    assert_eq!(w.dims, [8, 3, 3, 3]);
    // kaiming_uniform(a = √5) and the bias rule both give U(−1/√fan_in, 1/√fan_in).
    let bound = 1.0 / 27f32.sqrt();
    assert!(w.data.iter().chain(&b).all(|v| v.abs() <= bound));
    let spread = |v: &[f32]| {
        v.iter().fold(f32::MIN, |m, &x| m.max(x)) - v.iter().fold(f32::MAX, |m, &x| m.min(x))
    };
    assert!(spread(&w.data) > bound, "weights barely spread: {w:?}");
    assert!(spread(&b) > 0.0, "biases all equal: {b:?}");
    assert_eq!(read(7), (w.clone(), b.clone()));
    assert_ne!(read(8).0, w);
}

#[test]
fn bad_layers_are_refused_with_the_field_named() {
    let ctx = common::gpu();
    let config = Conv2dConfig::new(1, 2, (5, 5));
    let w = Tensor4::zeros([2, 1, 3, 3]);
    let e = Conv2d::from_weights(ctx, config, &w, Some(&[0.0, 0.0])).expect_err("refused");
    assert!(e.to_string().contains("weight w dims"), "{e}");
    let w = Tensor4::zeros([2, 1, 5, 5]);
    let e = Conv2d::from_weights(ctx, config, &w, None).expect_err("refused");
    assert!(e.to_string().contains("configured with bias"), "{e}");
    let e = Conv2d::from_weights(ctx, config.with_bias(false), &w, Some(&[0.0, 0.0]))
        .expect_err("refused");
    assert!(e.to_string().contains("without bias"), "{e}");
    let layer = Conv2d::from_weights(ctx, config, &w, Some(&[0.0, 0.0])).expect("layer");
    let x = DeviceTensor::upload(ctx, "x", &Tensor4::zeros([1, 3, 24, 24])).expect("upload");
    let e = layer.forward(&x).expect_err("refused");
    assert!(e.to_string().contains("input channels"), "{e}");
}

/// A layer without bias and the same layer with a zero bias run the same kernels on the same
/// numbers for one step: the weights agree bit for bit, and only the layer with a bias moves
/// it; after three steps the layer without bias still holds zeros.
#[test]
fn a_layer_without_bias_trains_its_weights_only() {
    let ctx = common::gpu();
    let config = Conv2dConfig::NOTEBOOK;
    let x = wgconv::notebook::image();
    let t = Tensor4::new("t", [1, 2, 20, 20], vec![0.25; 800]).expect("t");
    let w = wgconv::init::random_filters(2, 1, 5, 5, 3);
    let options =
        TrainerOptions::new(Sgd::new(0.1)).with_versions(TrainVersions::all(KernelVersion::Simple));
    let run = |config: Conv2dConfig, b: Option<&[f32]>, steps| {
        let layer = Conv2d::from_weights(ctx, config, &w, b).expect("layer");
        let mut trainer = Trainer::new(layer, &x, &t, options).expect("trainer");
        trainer.run(steps, false, |_, _| {}).expect("run");
        trainer.read_state().expect("state")
    };
    let with_bias = run(config, Some(&[0.0, 0.0]), 1);
    let without = run(config.with_bias(false), None, 1);
    assert_ne!(with_bias.w, w, "the weights did not move");
    assert_eq!(with_bias.w, without.w);
    assert!(with_bias.b.iter().any(|&b| b != 0.0), "db was zero");
    // No bias buffer, no db, no bias momentum.
    let three = run(config.with_bias(false), None, 3);
    for state in [&without, &three] {
        assert!(state.b.is_empty() && state.b_momentum.is_empty());
    }
}

#[test]
fn the_trained_layer_comes_back_with_the_trainers_weights() {
    let ctx = common::gpu();
    let layer = Conv2d::new(ctx, Conv2dConfig::NOTEBOOK, 5).expect("layer");
    let x = wgconv::notebook::image();
    let t = Tensor4::new("t", [1, 2, 20, 20], vec![0.5; 800]).expect("t");
    let mut trainer =
        Trainer::new(layer, &x, &t, TrainerOptions::new(Sgd::new(0.05))).expect("trainer");
    trainer.run(20, false, |_, _| {}).expect("run");
    let state = trainer.read_state().expect("state");
    let layer = trainer.into_layer();
    let (w, b) = layer.read_weights().expect("read");
    assert_eq!(w, state.w);
    assert_eq!(b.expect("bias"), state.b);
}

#[test]
fn safetensors_round_trip_under_pytorchs_names() {
    let ctx = common::gpu();
    let config = Conv2dConfig::new(3, 4, (3, 2)).with_stride((2, 1));
    let layer = Conv2d::new(ctx, config, 9).expect("layer");
    let bytes = layer.to_safetensors().expect("save");
    // Read with the safetensors crate itself: PyTorch's names, dims and dtype.
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("parse");
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["bias", "weight"]);
    assert_eq!(file.tensor("weight").expect("w").shape(), [4, 3, 3, 2]);
    assert_eq!(file.tensor("bias").expect("b").shape(), [4]);
    assert_eq!(
        file.tensor("weight").expect("w").dtype(),
        safetensors::Dtype::F32
    );
    let loaded = Conv2d::from_safetensors(ctx, config, &bytes).expect("load");
    assert_eq!(
        loaded.read_weights().expect("read"),
        layer.read_weights().expect("read")
    );

    // Without bias only `weight` is written, and a file with a bias is refused for it.
    let no_bias = Conv2d::new(ctx, config.with_bias(false), 9).expect("layer");
    let plain = no_bias.to_safetensors().expect("save");
    let file = safetensors::SafeTensors::deserialize(&plain).expect("parse");
    assert_eq!(file.names(), ["weight"]);
    Conv2d::from_safetensors(ctx, config.with_bias(false), &plain).expect("load");
    let e = Conv2d::from_safetensors(ctx, config.with_bias(false), &bytes).expect_err("bias");
    assert!(e.to_string().contains("without bias"), "{e}");
    let e = Conv2d::from_safetensors(ctx, config, &plain).expect_err("no bias");
    assert!(e.to_string().contains("bias"), "{e}");
    let e =
        Conv2d::from_safetensors(ctx, Conv2dConfig::new(3, 4, (3, 3)), &bytes).expect_err("dims");
    assert!(e.to_string().contains("weight w dims"), "{e}");
}

#[test]
fn warming_up_runs_every_kernel_and_leaves_no_buffer() {
    // A device of its own: the other tests allocate on the shared one concurrently.
    let ctx = &wgconv::GpuContext::new(&wgconv::AdapterRequest::from_env()).expect("adapter");
    let before = ctx.memory_use();
    use wgconv::gpu::WarmUp;
    let all = [
        WarmUp::All,
        WarmUp::Forward(KernelVersion::Simple),
        WarmUp::Forward(KernelVersion::Tiled),
    ];
    ctx.warm_up(&all).expect("warm up");
    assert_eq!(ctx.memory_use(), before, "warm-up buffers outlived it");
}

#[test]
fn tensors_whose_data_does_not_fill_their_dims_are_refused() {
    let ctx = common::gpu();
    // The fields are public: a tensor can be built without Tensor4::new's check.
    let short = Tensor4 {
        dims: [1, 1, 8, 8],
        data: vec![0.0; 4],
    };
    let e = DeviceTensor::upload(ctx, "x", &short).expect_err("short data");
    assert!(e.to_string().contains("need 64 values, got 4"), "{e}");
    let layer = Conv2d::new(ctx, Conv2dConfig::new(1, 1, (3, 3)), 0).expect("layer");
    let t = Tensor4::zeros([1, 1, 6, 6]);
    let options = TrainerOptions::new(Sgd::new(0.1));
    let e = Trainer::new(layer, &short, &t, options).expect_err("short x");
    assert!(e.to_string().contains("input x"), "{e}");
}

/// The kernels index the padded input in i32: a padding past it is refused by the trainer too,
/// not only by the forward pass (dX would silently miss pixels).
#[test]
fn padding_past_the_kernels_i32_indices_is_refused_by_the_trainer() {
    let ctx = common::gpu();
    let huge = 1 << 31;
    let config = Conv2dConfig::new(1, 1, (1, 1))
        .with_stride((huge, huge))
        .with_padding((huge, huge));
    let x = Tensor4::new("x", [1, 1, 1, 1], vec![1.0]).expect("x");
    let shape = config.shape_for(x.dims).expect("a valid shape");
    let t = Tensor4::zeros([1, 1, shape.p() as usize, shape.q() as usize]);
    let layer = Conv2d::new(ctx, config, 0).expect("layer");
    let e = Trainer::new(layer, &x, &t, TrainerOptions::new(Sgd::new(0.1))).expect_err("refused");
    assert!(e.to_string().contains("i32 indices"), "{e}");
}

#[test]
fn the_window_kernels_packed_copies_match_their_twins() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(23);
    let mut blocks = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let case = gen.next_case();
        blocks.insert(wgconv::gpu::grids::forward_filter_block(&case.shape));
        let packed = wgconv::gpu::forward::packed_weights(ctx, &case.shape, &case.w).expect("pack");
        // A copy: the same bits, zeros past each group's last filter.
        assert_eq!(
            packed,
            wgconv::cpu::pack_weights(&case.shape, &case.w.data),
            "{}",
            case.shape
        );
        let packed =
            wgconv::gpu::forward::packed_input_weights(ctx, &case.shape, &case.w).expect("pack");
        // The window dX's: the same bits, zeros past each group's last channel.
        assert_eq!(
            packed,
            wgconv::cpu::pack_input_weights(&case.shape, &case.w.data),
            "{}",
            case.shape
        );
        // The window dW's dz (N, K, P, Q), in blocks of four filters: the same bits, zeros past
        // each group's last filter.
        let s = &case.shape;
        let dims = [s.n, s.k, s.p(), s.q()].map(|d| d as usize);
        let dz = Tensor4::new(
            "dz",
            dims,
            (0..dims.iter().product::<usize>())
                .map(|i| i as f32 - 7.5)
                .collect(),
        )
        .expect("dz");
        let packed = wgconv::gpu::forward::packed_output_grad(ctx, s, &dz).expect("pack");
        assert_eq!(packed, wgconv::cpu::pack_output_grad(s, &dz.data), "{s}");
        // The window dW's rows of x: the same bits, moved right by the left padding, zeros
        // around.
        let packed = wgconv::gpu::forward::packed_input_rows(ctx, s, &case.x).expect("pack");
        assert_eq!(packed, wgconv::cpu::pack_input_rows(s, &case.x.data), "{s}");
        // The window dX's rows of dz, moved right by their lead, zeros around.
        let packed = wgconv::gpu::forward::packed_output_grad_rows(ctx, s, &dz).expect("pack");
        assert_eq!(
            packed,
            wgconv::cpu::pack_output_grad_rows(s, &dz.data),
            "{s}"
        );
    }
    // Both blocks of filters of the window forward (8, and 4 for small groups) were packed.
    assert_eq!(blocks.into_iter().collect::<Vec<_>>(), [4, 8]);
}
