// loss_cross_entropy.wgsl — cross-entropy of class logits against integer labels, as
// F.cross_entropy (softmax + negative log-likelihood), per sample, with its gradient.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the CrossEntropyParams struct generated from
// `gpu::params::CrossEntropyParams`, common/grid.wgsl, common/nan.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             CrossEntropyParams
//   1  logits   storage, read       (N, classes)
//   2  labels   storage, read       u32 (N), each < classes (the host checks them)
//   3  dlogits  storage, read_write dL/dlogits (N, classes), overwritten
//   4  row_loss storage, read_write (N): each sample's loss, summed by loss_mean.wgsl
//
// One invocation per sample n, on a folded grid: m = max_c z_c (a NaN wins, so it propagates),
// s = Σ_c exp(z_c − m) (stable under large logits: every term ≤ 1), row_loss = m + log s − z_label,
// dlogits_c = (exp(z_c − m)/s − [c = label]) · scale, scale = 1/N (the mean over the batch).
//
// CPU twin: `cpu::cross_entropy`.

@group(0) @binding(0) var<uniform> params: CrossEntropyParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (n >= params.n) {
        return;
    }
    let row = n * params.classes;
    // The largest logit (classes ≥ 1); a NaN wins, so it propagates.
    var m = logits[row];
    for (var c = 1u; c < params.classes; c++) {
        let v = logits[row + c];
        if (v > m || is_nan(v)) {
            m = v;
        }
    }
    var s = 0.0;
    for (var c = 0u; c < params.classes; c++) {
        s += exp(logits[row + c] - m);
    }
    let label = labels[n];
    if (label >= params.classes) {
        // NaN (the host refuses such labels). Built at run time: a constant expression may not
        // evaluate to a NaN in WGSL.
        row_loss[n] = bitcast<f32>(0x7fc00000u | (label & 0u));
    } else {
        row_loss[n] = m + log(s) - logits[row + label];
    }
    for (var c = 0u; c < params.classes; c++) {
        let p = exp(logits[row + c] - m) / s;
        dlogits[row + c] = (p - select(0.0, 1.0, c == label)) * params.scale;
    }
}
