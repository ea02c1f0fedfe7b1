// common/gemm_store.wgsl — the epilogue of the three implicit GEMMs (`*_tiled.wgsl`), after
// common/gemm_tile.wgsl (needs BLOCK).

// Hands each of the 4×4 outputs an invocation holds in acc (rows row0 + BLOCK·i, columns
// col0 + BLOCK·jc) that lies inside the rows × cols GEMM to the kernel's
// `store_output(row, col, at, v)`; `at` is the kernel's (where its group or split starts).
fn store_tile(acc: ptr<function, array<vec4<f32>, 4>>, row0: u32, col0: u32, rows: u32, cols: u32, at: u32) {
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + BLOCK * i;
        if (row >= rows) {
            continue;
        }
        for (var jc = 0u; jc < 4u; jc++) {
            let col = col0 + BLOCK * jc;
            if (col < cols) {
                store_output(row, col, at, (*acc)[i][jc]);
            }
        }
    }
}
