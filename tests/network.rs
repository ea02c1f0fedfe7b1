//! `Sequential` and `SgdOptimizer`: the network is its layers' ops chained (bit for bit), the
//! optimiser is `cpu::sgd_update` per parameter with momentum kept across steps, the state
//! dict has PyTorch's names and shapes and loads strictly, and a model lives in a struct and
//! moves to another thread.

mod common;

use common::gpu;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::compare::{compare, sgd_bound};
use wgconv::cpu::{self, widen};
use wgconv::{
    cross_entropy, Conv2d, Conv2dConfig, DeviceLabels, DeviceTensor, GpuContext, Linear, MaxPool2d,
    Parameters, Sequential, Sgd, SgdOptimizer, Tensor4,
};

fn batch(rng: &mut ChaCha8Rng, n: usize) -> (DeviceTensor, DeviceLabels, Vec<u32>) {
    let x: Vec<f32> = (0..n * 144).map(|_| rng.random_range(-1.0..=1.0)).collect();
    let labels: Vec<u32> = (0..n).map(|_| rng.random_range(0..4)).collect();
    let x =
        DeviceTensor::upload(gpu(), "x", &Tensor4::new("x", [n, 1, 12, 12], x).unwrap()).unwrap();
    (x, DeviceLabels::upload(gpu(), &labels, 4).unwrap(), labels)
}

/// conv 1→3 (5×5, ReLU) on 12×12 → max-pool 2 → linear 48 → 4.
fn net(ctx: &GpuContext) -> Sequential {
    Sequential::new(ctx)
        .push(Conv2d::new(ctx, Conv2dConfig::new(1, 3, (5, 5)), 3).unwrap())
        .push(MaxPool2d::new(2, 2))
        .push(Linear::new(ctx, 3 * 4 * 4, 4, 4).unwrap())
}

fn host(t: &DeviceTensor) -> Vec<f32> {
    t.download(gpu()).unwrap().data
}

#[test]
fn names_and_torch_code_follow_nn_sequential() {
    let net = net(gpu());
    let names: Vec<String> = net.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "4.weight", "4.bias"]);
    assert_eq!(
        net.torch_code(),
        "nn.Sequential(nn.Conv2d(1, 3, kernel_size=(5, 5)), nn.ReLU(), \
         nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2)), nn.Flatten(), nn.Linear(48, 4))"
    );
    // Two linear layers in a row: one flatten, and the ReLU between them is a module.
    let ctx = gpu();
    let mlp = Sequential::new(ctx)
        .push(Linear::new(ctx, 6, 5, 0).unwrap().with_relu())
        .push(Linear::new(ctx, 5, 2, 1).unwrap());
    let names: Vec<String> = mlp.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.weight", "3.bias"]);
}

/// One step through `Sequential` equals the same step through the layers' own ops, chained by
/// hand in reverse (the kernels are deterministic, so bit for bit).
#[test]
fn a_network_step_is_its_ops_chained() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (x, labels, _) = batch(&mut rng, 6);
    let mut seq = net(ctx);
    let logits = seq.forward_train(&x).unwrap();
    let (_, dlogits) = cross_entropy(ctx, &logits, &labels).unwrap();
    let grads = seq.backward(&dlogits).unwrap();

    let conv = Conv2d::new(ctx, Conv2dConfig::new(1, 3, (5, 5)), 3).unwrap();
    let pool = MaxPool2d::new(2, 2);
    let fc = Linear::new(ctx, 48, 4, 4).unwrap();
    let (y1, s1) = conv.forward_train(&x).unwrap();
    let (y2, s2) = pool.forward_train(&y1).unwrap();
    let (y3, s3) = fc.forward_train(&y2).unwrap();
    assert_eq!(host(&y3), host(&logits));
    let (_, d3) = cross_entropy(ctx, &y3, &labels).unwrap();
    let g3 = fc.backward(&s3, &d3, true).unwrap();
    let d2 = pool.backward(&s2, g3.input.as_ref().unwrap()).unwrap();
    let g1 = conv.backward(&s1, &d2, false).unwrap();
    assert!(g1.input.is_none(), "the first layer computes no dX");
    for (name, by_hand) in [
        ("0.weight", &g1.weight),
        ("0.bias", g1.bias.as_ref().unwrap()),
        ("4.weight", &g3.weight),
        ("4.bias", g3.bias.as_ref().unwrap()),
    ] {
        assert_eq!(host(grads.get(name).unwrap()), host(by_hand), "{name}");
    }
}

/// SgdOptimizer over a network's parameters is torch.optim.SGD: each step against
/// `cpu::sgd_update` from the same parameters, gradients and momentum (within
/// `compare::sgd_bound`), the momentum kept across steps and batches.
#[test]
fn sgd_optimizer_matches_the_twin_across_steps() {
    let ctx = gpu();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut seq = net(ctx);
    let settings = Sgd {
        momentum: 0.9,
        weight_decay: 0.01,
        nesterov: true,
        ..Sgd::new(0.05)
    };
    let mut sgd = SgdOptimizer::new(settings);
    let mut bufs: Vec<Vec<f64>> = Vec::new();
    let mut losses = Vec::new();
    for step in 0..40 {
        let (x, labels, _) = batch(&mut rng, 8);
        let logits = seq.forward_train(&x).unwrap();
        let (loss, dlogits) = cross_entropy(ctx, &logits, &labels).unwrap();
        losses.push(host(&loss)[0]);
        let grads = seq.backward(&dlogits).unwrap();
        let before: Vec<(String, Vec<f32>)> = seq
            .parameters()
            .into_iter()
            .map(|(n, p)| (n, host(p)))
            .collect();
        sgd.step(&mut seq, &grads).unwrap();
        if step >= 3 {
            continue; // the twin follows the first steps; the rest only train
        }
        for (i, (name, p0)) in before.iter().enumerate() {
            let g = widen(&host(grads.get(name).unwrap()));
            if bufs.len() <= i {
                bufs.push(vec![0.0; g.len()]);
            }
            let mut p = widen(p0);
            let buf0 = bufs[i].clone();
            cpu::sgd_update(&mut p, &g, &mut bufs[i], &settings);
            let scale = |j: usize| {
                let s = &settings;
                p0[j].abs() as f64
                    + f64::from(s.lr)
                        * (g[j].abs()
                            + f64::from(s.weight_decay) * p0[j].abs() as f64
                            + f64::from(s.momentum) * (buf0[j].abs() + bufs[i][j].abs()))
            };
            let now = host(seq.parameters()[i].1);
            let c = compare(&now, &p, |j| sgd_bound(scale(j)), [now.len(), 1, 1, 1]);
            assert!(c.passed(), "{name} step {step}: {c:?}");
            // The GPU's momentum becomes the twin's next buffer (errors do not compound).
            bufs[i] = widen(&host(sgd.momentum(name).unwrap()));
        }
    }
    // Random labels: the loss still falls as the network memorises the batches' statistics.
    assert!(
        losses[35..].iter().sum::<f32>() < losses[..5].iter().sum::<f32>(),
        "{losses:?}"
    );
}

/// The state dict as PyTorch's names and shapes, and strict loading.
#[test]
fn safetensors_round_trip_with_torch_shapes_and_strict_names() {
    let ctx = gpu();
    let a = net(ctx);
    let bytes = a.to_safetensors().unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut shapes: Vec<(String, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec()))
        .collect();
    shapes.sort();
    assert_eq!(
        shapes,
        [
            ("0.bias".to_string(), vec![3]),
            ("0.weight".to_string(), vec![3, 1, 5, 5]),
            ("4.bias".to_string(), vec![4]),
            ("4.weight".to_string(), vec![4, 48]),
        ]
    );
    // Another network (other seeds) takes them and then computes the same.
    let mut b = Sequential::new(ctx)
        .push(Conv2d::new(ctx, Conv2dConfig::new(1, 3, (5, 5)), 9).unwrap())
        .push(MaxPool2d::new(2, 2))
        .push(Linear::new(ctx, 48, 4, 9).unwrap());
    b.load_safetensors(&bytes).unwrap();
    let (x, _, _) = batch(&mut ChaCha8Rng::seed_from_u64(4), 2);
    assert_eq!(host(&a.forward(&x).unwrap()), host(&b.forward(&x).unwrap()));
    // Strict: a missing, extra or misshapen tensor is refused, and nothing is written.
    let before = host(b.parameters()[0].1);
    let wrong = Sequential::new(ctx).push(Linear::new(ctx, 48, 4, 0).unwrap());
    let e = b
        .load_safetensors(&wrong.to_safetensors().unwrap())
        .unwrap_err();
    assert!(
        e.to_string().contains("unexpected tensor") || e.to_string().contains("no tensor"),
        "{e}"
    );
    assert_eq!(host(b.parameters()[0].1), before);
}

/// A model in a struct beside its context, moved to another thread and trained there.
#[test]
fn a_model_lives_in_a_struct_and_moves_to_a_thread() {
    struct Model {
        ctx: GpuContext,
        net: Sequential,
        sgd: SgdOptimizer,
    }
    fn assert_send<T: Send>(_: &T) {}
    let ctx = gpu().clone();
    let model = Model {
        net: net(&ctx),
        ctx,
        sgd: SgdOptimizer::new(Sgd::new(0.1)),
    };
    assert_send(&model);
    let trained = std::thread::spawn(move || {
        let mut m = model;
        let (x, labels, _) = batch(&mut ChaCha8Rng::seed_from_u64(5), 4);
        let logits = m.net.forward_train(&x).unwrap();
        let (loss, d) = cross_entropy(&m.ctx, &logits, &labels).unwrap();
        let g = m.net.backward(&d).unwrap();
        m.sgd.step(&mut m.net, &g).unwrap();
        loss.download(&m.ctx).unwrap().data[0]
    })
    .join()
    .unwrap();
    assert!(trained.is_finite());
}

/// A context from an application's own wgpu device runs the same kernels.
#[test]
fn a_context_from_an_existing_device() {
    use wgconv::wgpu;
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default())).unwrap();
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default())).unwrap();
    let ctx = GpuContext::from_device(device, queue).unwrap();
    let x = DeviceTensor::upload(
        &ctx,
        "x",
        &Tensor4::new("x", [1, 1, 2, 2], vec![1., -2., 3., 4.]).unwrap(),
    )
    .unwrap();
    let y = MaxPool2d::new(2, 2).forward(&x).unwrap();
    assert_eq!(y.download(&ctx).unwrap().data, [4.0]);
    // Its buffer is the application's to bind.
    assert!(y.buffer().size() >= 4);
}
