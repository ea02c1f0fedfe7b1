// common/bias_grad.wgsl — the layer has a bias: binding `db` (K) f32, written.

@group(0) @binding(BIAS_BINDING) var<storage, read_write> db: array<f32>;

fn store_db(k: u32, v: f32) {
    db[k] = v;
}
