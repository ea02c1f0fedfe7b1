// common/reduce.wgsl — the fixed-order tree sum over workgroup memory. Needs WORKGROUP_SIZE.

var<workgroup> sums: array<f32, WORKGROUP_SIZE>;

// Sums `value` over the `width` invocations lid − lane … lid − lane + width − 1 (width a power of
// two, lane = the invocation's place in them): halves are added pairwise, slot by slot, in the
// same order every run. Returns the total to every one of them. Call from uniform control flow
// with the same width everywhere.
fn tree_sum(value: f32, lid: u32, lane: u32, width: u32) -> f32 {
    sums[lid] = value;
    workgroupBarrier();
    for (var half = width / 2u; half > 0u; half = half / 2u) {
        if (lane < half) {
            sums[lid] = sums[lid] + sums[lid + half];
        }
        workgroupBarrier();
    }
    return sums[lid - lane];
}
