// common/input_element.wgsl — the element of the input (N, C, H, W) an invocation owns in a
// folded grid of one invocation per element (conv2d_bwd_input.wgsl, conv2d_bwd_input_fold.wgsl).
// Needs WORKGROUP_SIZE, `params: ConvParams` and common/grid.wgsl.

// Its flat index, column w, row h and plane n·C + c; `inside` false past the end.
struct InputElement {
    index: u32,
    w: u32,
    h: u32,
    plane: u32,
    inside: bool,
}

fn input_element(wid: vec3<u32>, lid: u32) -> InputElement {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    return InputElement(
        i,
        i % params.w,
        (i / params.w) % params.h,
        i / (params.w * params.h),
        i < params.n * params.c * params.h * params.w,
    );
}
