//! The async readers a browser uses (web/: `GpuContext::from_adapter_async`,
//! `DeviceTensor::download_async`, `Trainer::run_async`) give exactly what the blocking ones
//! give, driven here by `pollster` on a native adapter.

mod common;

use wgconv::gpu::{Conv2d, Conv2dConfig, DeviceTensor, ForwardOptions, Trainer, TrainerOptions};
use wgconv::sgd::Sgd;
use wgconv::{compare, cpu, notebook, AdapterRequest, GpuContext, Tensor4};

fn notebook_layer(ctx: &GpuContext) -> Conv2d {
    let b = [0.0, -0.1];
    Conv2d::from_weights(ctx, Conv2dConfig::NOTEBOOK, &notebook::filters(), Some(&b))
        .expect("layer")
}

#[test]
fn download_async_gives_what_download_gives() {
    let ctx = common::gpu();
    let x = DeviceTensor::upload(ctx, "x", &notebook::image()).expect("upload");
    let out = notebook_layer(ctx)
        .forward_with(
            &x,
            ForwardOptions {
                want_z: true,
                kernel: None,
            },
        )
        .expect("forward");
    for t in [&out.y, out.z.as_ref().expect("z")] {
        let blocking = t.download(ctx).expect("download");
        let awaited = pollster::block_on(t.download_async(ctx)).expect("download_async");
        assert_eq!(awaited.dims, blocking.dims);
        assert_eq!(awaited.data, blocking.data, "bitwise the same values");
    }
}

#[test]
fn run_async_gives_the_losses_and_weights_run_gives() {
    let ctx = common::gpu();
    let x = notebook::image();
    let teacher = notebook_layer(ctx);
    let t = teacher
        .forward(&DeviceTensor::upload(ctx, "x", &x).expect("upload"))
        .expect("forward")
        .download(ctx)
        .expect("t");
    let sgd = Sgd {
        momentum: 0.9,
        ..Sgd::new(0.5)
    };
    // 70 steps over log capacity 32: three submissions, the last one partial.
    let options = TrainerOptions::new(sgd).with_log_capacity(32);
    let trainer = || {
        Trainer::new(
            Conv2d::new(ctx, Conv2dConfig::NOTEBOOK, 3).expect("student"),
            &x,
            &t,
            options,
        )
    };
    let (mut a, mut b) = (trainer().expect("trainer"), trainer().expect("trainer"));
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    a.run(70, false, |first, l| la.push((first, l.to_vec())))
        .expect("run");
    pollster::block_on(b.run_async(70, |first, l| lb.push((first, l.to_vec()))))
        .expect("run_async");
    assert_eq!(la, lb, "the same losses, in the same chunks");
    assert_eq!(b.steps_done(), 70);
    let (wa, ba) = a.into_layer().read_weights().expect("weights");
    let layer_b = b.into_layer();
    let wb: Tensor4 = pollster::block_on(layer_b.weight().download_async(ctx)).expect("w");
    let bb = pollster::block_on(layer_b.bias().expect("bias").download_async(ctx)).expect("b");
    assert_eq!(wa.data, wb.data);
    assert_eq!(ba.expect("bias"), bb.data);
}

#[test]
fn from_adapter_async_opens_a_working_context() {
    // The adapter GpuContext::new would pick, handed over as a browser's would be.
    let request = AdapterRequest::from_env();
    let backends = wgconv::gpu::parse_backends(request.backends.as_deref()).expect("backends");
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    let instance = wgpu::Instance::new(desc);
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("these tests need a GPU adapter (WGPU_BACKEND selects the backends)");
    let ctx = pollster::block_on(GpuContext::from_adapter_async(adapter, request.timeout))
        .expect("from_adapter_async");
    let x = DeviceTensor::upload(&ctx, "x", &notebook::image()).expect("upload");
    let y = notebook_layer(&ctx)
        .forward(&x)
        .expect("forward")
        .download(&ctx)
        .expect("y");
    assert_eq!(y.dims, [1, 2, 20, 20]);
    // Every element within its own bound of the f64 reference (compare.rs).
    let shape = Conv2dConfig::NOTEBOOK
        .shape_for([1, 1, 24, 24])
        .expect("shape");
    let r = cpu::conv2d_bias_relu_fwd(
        &shape,
        &notebook::image().data,
        &notebook::filters().data,
        &[0.0f32, -0.1],
    );
    let check = compare::compare(
        &y.data,
        &r.y,
        |i| compare::forward_bound(&shape, r.abs_sum[i]),
        y.dims,
    );
    assert!(check.passed(), "{check:?}");
}

/// A context opened lazily (its kernels compiled on first use, as the web page opens it) gives
/// the eager context's bits: a forward pass before any other kernel is compiled, then every
/// kernel compiled by `compile_kernels`, then training steps.
#[test]
fn a_lazy_context_gives_the_eager_contexts_bits() {
    let request = AdapterRequest::from_env();
    let backends = wgconv::gpu::parse_backends(request.backends.as_deref()).expect("backends");
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    let instance = wgpu::Instance::new(desc);
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("these tests need a GPU adapter (WGPU_BACKEND selects the backends)");
    let lazy = pollster::block_on(GpuContext::from_adapter_async_lazy(
        adapter,
        request.timeout,
    ))
    .expect("from_adapter_async_lazy");
    let eager = common::gpu();
    let x = notebook::image();
    let forward = |ctx: &GpuContext| {
        let xd = DeviceTensor::upload(ctx, "x", &x).expect("upload");
        notebook_layer(ctx)
            .forward(&xd)
            .expect("forward")
            .download(ctx)
            .expect("y")
    };
    let t = forward(eager);
    assert_eq!(
        forward(&lazy).data,
        t.data,
        "the first forward, on its own kernel"
    );
    lazy.compile_kernels().expect("compile_kernels");
    let sgd = Sgd {
        momentum: 0.9,
        ..Sgd::new(0.5)
    };
    let steps = |ctx: &GpuContext| {
        let student = Conv2d::new(ctx, Conv2dConfig::NOTEBOOK, 5).expect("student");
        let mut trainer = Trainer::new(student, &x, &t, TrainerOptions::new(sgd)).expect("trainer");
        let mut losses = Vec::new();
        trainer
            .run(5, false, |_, l| losses.extend_from_slice(l))
            .expect("run");
        let (w, _) = trainer.into_layer().read_weights().expect("weights");
        (losses, w.data)
    };
    assert_eq!(
        steps(&lazy),
        steps(eager),
        "training steps, every kernel compiled"
    );
}

#[test]
fn trainer_async_readers_give_what_the_blocking_ones_give() {
    let ctx = common::gpu();
    let x = notebook::image();
    let t = notebook_layer(ctx)
        .forward(&DeviceTensor::upload(ctx, "x", &x).expect("upload"))
        .expect("forward")
        .download(ctx)
        .expect("t");
    let sgd = Sgd {
        momentum: 0.9,
        ..Sgd::new(0.5)
    };
    let student = Conv2d::new(ctx, Conv2dConfig::NOTEBOOK, 5).expect("student");
    let mut trainer = Trainer::new(student, &x, &t, TrainerOptions::new(sgd)).expect("trainer");
    // Two steps, so that the momentum buffers are not zeros.
    trainer.run(2, false, |_, _| {}).expect("run");
    let state = trainer.read_state().expect("state");
    let awaited = pollster::block_on(trainer.read_state_async()).expect("state async");
    assert_eq!(awaited.w.dims, state.w.dims);
    assert_eq!(awaited.w.data, state.w.data);
    assert_eq!(awaited.b, state.b);
    assert_eq!(awaited.w_momentum, state.w_momentum);
    assert_eq!(awaited.b_momentum, state.b_momentum);
    assert!(state.w_momentum.iter().any(|&v| v != 0.0));
    let (dw, db) = trainer.read_grads().expect("grads");
    let (dwa, dba) = pollster::block_on(trainer.read_grads_async()).expect("grads async");
    assert_eq!((dwa.dims, dwa.data), (dw.dims, dw.data));
    assert_eq!(dba, db);
    let (y, dz) = trainer.read_output_and_dz().expect("y, dz");
    let (ya, dza) = pollster::block_on(trainer.read_output_and_dz_async()).expect("async");
    assert_eq!((ya.dims, ya.data), (y.dims, y.data));
    assert!(dz.data.iter().any(|&v| v != 0.0));
    assert_eq!((dza.dims, dza.data), (dz.dims, dz.data));
}
