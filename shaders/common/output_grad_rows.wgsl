// common/output_grad_rows.wgsl — the rows of dz as the window dX's sliding path reads them, in
// vec4s (conv2d_pack_output_grad_rows.wgsl copies them): row (n, k, p) of dz moved right by
// `output_grad_rows_lead()` columns (so that a block's first column starts a vec4), zeros
// around it, long enough for the last block of eight pixels. Needs `params` (dX's: a copying
// padding mode's padded input).

// Columns before dz's column 0: 4·⌈(pad_left + S − 1)/4⌉ − pad_left (`grids::output_grad_rows_lead`).
fn output_grad_rows_lead() -> u32 {
    return 4u * ((params.pad_left + params.s + 2u) / 4u) - params.pad_left;
}

// Floats per row: 8·⌈W/8⌉ + 4·⌈(pad_left + S − 1)/4⌉ (`grids::output_grad_rows_width`).
fn output_grad_rows_width() -> u32 {
    return 8u * ((params.w + 7u) / 8u) + 4u * ((params.pad_left + params.s + 2u) / 4u);
}
