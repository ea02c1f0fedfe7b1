// common/window_columns.wgsl — the input columns a window kernel's block of outputs reads
// (conv2d_bias_relu_fwd_window.wgsl, conv2d_bwd_weight_window.wgsl). Needs `params` with the
// layer's shape fields, the input binding `x`, and common/padding.wgsl.

// The x a tap of output column q reads (`padded_source`; -1 where it reads zero padding).
fn source_column(q: u32, s: u32) -> i32 {
    let wp = i32(q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
    return padded_source(wp, i32(params.w), params.pad_mode);
}

// Source columns of outputs q … q + 3 at tap s.
fn source_columns(q: u32, s: u32) -> vec4<i32> {
    return vec4<i32>(
        source_column(q, s),
        source_column(q + 1u, s),
        source_column(q + 2u, s),
        source_column(q + 3u, s),
    );
}

// x[row + column] for each column, or 0 where it reads zero padding (-1).
fn read_columns(row: u32, cols: vec4<i32>) -> vec4<f32> {
    let at = vec4<u32>(max(cols, vec4<i32>(0))) + vec4<u32>(row);
    let v = vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]);
    return select(vec4<f32>(0.0), v, cols >= vec4<i32>(0));
}

// Whether each column is inside the row (not zero padding).
fn inside(cols: vec4<i32>) -> vec4<bool> {
    let before_end = cols < vec4<i32>(i32(params.w));
    return select(vec4<bool>(false), before_end, cols >= vec4<i32>(0));
}

// x[row + column], or 0 where the column is zero padding.
fn read_inside(row: u32, column: i32) -> f32 {
    let inside = column >= 0 && column < i32(params.w);
    return select(0.0, x[row + u32(clamp(column, 0, i32(params.w) - 1))], inside);
}
