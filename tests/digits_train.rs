//! The digit network's training steps on the GPU against the f64 twins: every kernel's output
//! of two steps on real digits (conv + ReLU, max-pool, linear, cross-entropy, their backwards,
//! SGD with momentum) within its bound, each twin fed the GPU's own inputs to that kernel.

mod common;

use wgconv::digits::check::checked_steps;
use wgconv::digits::{self, Digits};
use wgconv::sgd::Sgd;

#[test]
fn two_steps_on_digits_match_the_twin_within_bounds() {
    let ctx = common::gpu();
    let data = Digits::load().expect("digits");
    let split = Digits::split();
    let order = digits::shuffled(split.train.len(), 5, 0);
    let batches: Vec<_> = order
        .chunks(24)
        .take(2)
        .map(|c| {
            let picks: Vec<usize> = c.iter().map(|&j| split.train[j]).collect();
            data.batch(&picks).expect("batch")
        })
        .collect();
    for filters in [2, 3] {
        let mut net = digits::network(ctx, filters, 5).expect("network");
        let sgd = Sgd {
            momentum: 0.9,
            ..Sgd::new(0.05)
        };
        let checks = checked_steps(&mut net, sgd, &batches).expect("checked steps");
        for (name, c) in &checks.outputs {
            eprintln!(
                "K={filters} {name}: worst {:.3} of its bound",
                c.worst_ratio()
            );
            assert!(c.passed(), "K={filters} {name}: {c:?}");
            assert!(c.checked > 0, "{name}");
        }
        // Every output of a step: 4 forward, 7 backward, 4 parameters and 4 momentum buffers.
        assert_eq!(checks.outputs.len(), 19);
    }
}

#[test]
fn the_network_rejects_a_bad_filter_count_and_a_bad_state_dict() {
    let ctx = common::gpu();
    assert!(digits::network(ctx, 0, 0).is_err());
    assert!(digits::network(ctx, digits::MAX_FILTERS + 1, 0).is_err());
    assert!(digits::filters_of(b"not safetensors").is_err());
    let net = digits::network(ctx, 4, 0).expect("network");
    let bytes = net.to_safetensors().expect("save");
    assert_eq!(digits::filters_of(&bytes).expect("K"), 4);
}
