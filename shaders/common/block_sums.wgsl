// common/block_sums.wgsl — the sums of a window kernel's block: four channels (filters of the
// forward, input channels of dX) × four values of a row, each channel's in a vec4. Needs the
// weights binding `w`.

var<private> acc0: vec4<f32>;
var<private> acc1: vec4<f32>;
var<private> acc2: vec4<f32>;
var<private> acc3: vec4<f32>;

// Adds v · w[tap + j·plane] to channel j's sums where `keep` holds (channel j of the block at
// `plane` floats from the first, those past `last` reading the last one's weight).
fn add_block_tap(v: vec4<f32>, tap: u32, plane: u32, last: u32, keep: vec4<bool>) {
    let w0 = w[tap];
    let w1 = w[tap + min(1u, last) * plane];
    let w2 = w[tap + min(2u, last) * plane];
    let w3 = w[tap + min(3u, last) * plane];
    acc0 = select(acc0, acc0 + w0 * v, keep);
    acc1 = select(acc1, acc1 + w1 * v, keep);
    acc2 = select(acc2, acc2 + w2 * v, keep);
    acc3 = select(acc3, acc3 + w3 * v, keep);
}
