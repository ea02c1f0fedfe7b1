// common/gemm_tile.wgsl — the tile skeleton of the three implicit GEMMs (`*_tiled.wgsl`). Needs
// TILE, SLICE and BLOCK.
//
// A workgroup of BLOCK × BLOCK invocations owns a TILE × TILE tile of outputs (rows × columns)
// and walks the reduction in slices of SLICE, staging the slice of A in a_tile[jj·TILE + row]
// and of B in b_tile[jj·TILE + col]. Invocation (tx, ty) holds the 4×4 outputs
// row = tx + BLOCK·i, col = ty + BLOCK·jc (relative to the tile) in acc[i][jc].

var<workgroup> a_tile: array<f32, TILE * SLICE>;
var<workgroup> b_tile: array<f32, TILE * SLICE>;

// After every invocation has staged the slice: adds its products to acc in jj order, then
// waits until the tiles may be overwritten. Call from uniform control flow.
fn multiply_slice(acc: ptr<function, array<vec4<f32>, 4>>, tx: u32, ty: u32) {
    workgroupBarrier();
    for (var jj = 0u; jj < SLICE; jj++) {
        let a = jj * TILE + tx;
        let bv = vec4<f32>(
            b_tile[jj * TILE + ty],
            b_tile[jj * TILE + ty + BLOCK],
            b_tile[jj * TILE + ty + 2u * BLOCK],
            b_tile[jj * TILE + ty + 3u * BLOCK],
        );
        (*acc)[0] += a_tile[a] * bv;
        (*acc)[1] += a_tile[a + BLOCK] * bv;
        (*acc)[2] += a_tile[a + 2u * BLOCK] * bv;
        (*acc)[3] += a_tile[a + 3u * BLOCK] * bv;
    }
    workgroupBarrier();
}
