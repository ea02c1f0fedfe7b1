// common/input_rows.wgsl — the rows of x as the window versions' sliding paths read them, in
// vec4s (conv2d_pack_input_rows.wgsl copies them): row (n, c, h) of x moved right by pad_left,
// zeros around it, long enough for the last block of eight outputs and the S − 1 columns after
// it, read four at a time. Needs `params`.

// Floats per row: 4·(2·⌈Q/8⌉ + 1 + ⌊(S − 1)/4⌋) (`grids::input_rows_width`).
fn input_rows_width() -> u32 {
    return 4u * (2u * ((params.q + 7u) / 8u) + 1u + (params.s - 1u) / 4u);
}
