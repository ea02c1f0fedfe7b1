//! Training on the GPU against the f64 reference: every kernel of a step on random shapes, a
//! 20-step trajectory with momentum and weight decay, determinism, and flat memory.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::check::CaseGenerator;
use wgconv::gpu::Trainer;
use wgconv::sgd::Sgd;
use wgconv::train_check::{checked_steps, StepCheck};
use wgconv::{ConvShape, Tensor4};

fn target(shape: &ConvShape, seed: u64) -> Tensor4 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dims = [
        shape.n as usize,
        shape.k as usize,
        shape.p() as usize,
        shape.q() as usize,
    ];
    Tensor4 {
        dims,
        data: (0..shape.output_len())
            .map(|_| rng.random_range(0.0..1.0))
            .collect(),
    }
}

fn report(what: &str, c: &StepCheck) -> String {
    let mut s = format!("{what}: mask mismatches {}\n", c.mask_mismatches);
    for (name, cmp) in c.outputs() {
        s += &format!(
            "  {name:<11} {} over, worst {:.3e} of bound {:?}\n",
            cmp.over,
            cmp.worst_ratio(),
            cmp.worst
        );
    }
    s
}

#[test]
fn every_kernel_of_a_step_matches_the_reference_on_random_shapes() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(0x7ea1);
    let sgd = Sgd {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 0.01,
        nesterov: false,
    };
    let mut worst = std::collections::BTreeMap::<&str, f64>::new();
    for i in 0..120 {
        let case = gen.next_case();
        let t = target(&case.shape, i);
        let mut trainer = Trainer::new(ctx, &case.shape, &case.x, &t, &case.w, &case.b, sgd, 4)
            .unwrap_or_else(|e| panic!("{}: {e}", case.shape));
        // Two steps, so that the second updates a non-zero momentum buffer.
        let check = checked_steps(&mut trainer, &case.x, &t, 2, true).expect("steps");
        assert!(
            check.passed(),
            "{}",
            report(&case.shape.to_string(), &check)
        );
        assert!(check.dx.is_some() && check.w_momentum.is_some());
        for (name, c) in check.outputs() {
            let w = worst.entry(name).or_default();
            *w = w.max(c.worst_ratio());
        }
    }
    eprintln!("worst error / bound over 120 shapes: {worst:?}");
}

#[test]
fn twenty_steps_with_momentum_and_weight_decay_follow_the_reference() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(99);
    let shape = ConvShape::new(wgconv::ConvShapeSpec {
        n: 3,
        c: 2,
        h: 11,
        w: 9,
        k: 3,
        r: 3,
        s: 4,
        stride: (2, 1),
        padding: (1, 2),
    })
    .expect("valid");
    let case = gen.inputs(shape, "trajectory");
    let t = target(&shape, 5);
    for nesterov in [false, true] {
        let sgd = Sgd {
            lr: 0.1,
            momentum: 0.8,
            weight_decay: 0.05,
            nesterov,
        };
        let mut trainer =
            Trainer::new(ctx, &shape, &case.x, &t, &case.w, &case.b, sgd, 1).expect("trainer");
        let check = checked_steps(&mut trainer, &case.x, &t, 20, true).expect("steps");
        assert_eq!(check.steps, 20);
        assert!(check.passed(), "{}", report("trajectory", &check));
        // The loss goes down along the trajectory.
        assert!(check.losses[19] < check.losses[0], "{:?}", check.losses);
        eprintln!(
            "nesterov {nesterov}: worst {:.3e} of its bound; losses {:?}",
            check.worst_ratio(),
            check.losses
        );
    }
}

#[test]
fn the_same_run_twice_gives_bitwise_equal_weights() {
    let ctx = common::gpu();
    let mut gen = CaseGenerator::new(4);
    let shape = ConvShape::new(wgconv::ConvShapeSpec {
        n: 4,
        c: 3,
        h: 16,
        w: 16,
        k: 5,
        r: 3,
        s: 3,
        stride: (1, 1),
        padding: (1, 1),
    })
    .expect("valid");
    let case = gen.inputs(shape, "determinism");
    let t = target(&shape, 8);
    let sgd = Sgd {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 1e-3,
        nesterov: false,
    };
    let run = || {
        let mut trainer =
            Trainer::new(ctx, &shape, &case.x, &t, &case.w, &case.b, sgd, 16).expect("trainer");
        let mut losses = Vec::new();
        trainer
            .run(50, false, |_, l| losses.extend_from_slice(l))
            .expect("run");
        let s = trainer.read_state().expect("state");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        (bits(&s.w.data), bits(&s.b), bits(&losses))
    };
    let first = run();
    let second = run();
    assert!(first == second, "two identical runs differ");
}

#[test]
fn gpu_memory_after_10000_steps_equals_that_after_10() {
    // A device of its own: the allocator report covers the whole device, and the other tests
    // allocate on the shared one concurrently.
    let ctx = &wgconv::GpuContext::new(&wgconv::AdapterRequest::from_env()).expect("adapter");
    let shape = ConvShape::SEED;
    let x = wgconv::filters::seed_image();
    let w = wgconv::filters::random_filters(2, 1, 5, 5, 1);
    let t = target(&shape, 3);
    let sgd = Sgd::new(0.01);
    let mut trainer =
        Trainer::new(ctx, &shape, &x, &t, &w, &[0.0, 0.0], sgd, 500).expect("trainer");
    let allocated = || {
        ctx.allocator_report().expect(
            "this test needs an adapter that reports its allocations (Vulkan, DX12 or Metal)",
        )
    };
    trainer.run(10, false, |_, _| {}).expect("10 steps");
    let after_10 = allocated();
    trainer.run(9_990, false, |_, _| {}).expect("10,000 steps");
    let after_10000 = allocated();
    eprintln!("GPU bytes allocated: {after_10} after 10 steps, {after_10000} after 10,000");
    assert_eq!(after_10, after_10000);
    assert_eq!(trainer.steps_done(), 10_000);
}
