// conv2d_bwd_input_fold.wgsl — the input gradient under reflect, replicate or circular padding:
// adds the gradient of every padded position into the pixel it copies.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams` (the layer's own: H, W, the four paddings, pad_mode), common/grid.wgsl,
// common/input_element.wgsl.
//
// Bindings (group 0):
//   0  params     uniform             ConvParams
//   1  dx_padded  storage, read       dL/d(padded x) (N, C, H + top + bottom, W + left + right),
//                                     from conv2d_bwd_input*.wgsl run on the padded input
//   2  dx         storage, read_write dL/dx (N, C, H, W), overwritten
//
// One invocation per dx[n,c,h,w]: the sum of dx_padded over the padded rows that copy row h
// times the padded columns that copy column w, rows and columns each in increasing order. Per
// axis those are the pixel's own position and at most one range in each padding
// (`copies_before`, `copies_after`): one position for reflect and circular (the host keeps their
// padding below or at the image size), the whole side for replicate's edge pixels.
//
// CPU twin: `cpu::conv2d_bwd_input` (its scatter adds every product into the pixel it read).

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> dx_padded: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// The padded positions [start, end) in the padding before an axis of `len` pixels (`before`
// wide) that copy pixel i.
fn copies_before(i: u32, len: u32, before: u32) -> vec2<u32> {
    switch params.pad_mode {
        case 1u: { // reflect: position before − j copies pixel j, 1 ≤ j ≤ before
            if (i >= 1u && i <= before) {
                return vec2<u32>(before - i, before - i + 1u);
            }
        }
        case 2u: { // replicate: all of it copies pixel 0
            if (i == 0u) {
                return vec2<u32>(0u, before);
            }
        }
        case 3u: { // circular: position before − len + j copies pixel j ≥ len − before
            if (i + before >= len) {
                return vec2<u32>(i + before - len, i + before - len + 1u);
            }
        }
        default: {}
    }
    return vec2<u32>(0u, 0u);
}

// The same after the axis (`after` wide, starting at padded position before + len).
fn copies_after(i: u32, len: u32, before: u32, after: u32) -> vec2<u32> {
    let start = before + len;
    switch params.pad_mode {
        case 1u: { // reflect: position start + j copies pixel len − 2 − j, j < after
            if (i + 2u <= len && len - 2u - i < after) {
                return vec2<u32>(start + len - 2u - i, start + len - 1u - i);
            }
        }
        case 2u: { // replicate: all of it copies pixel len − 1
            if (i + 1u == len) {
                return vec2<u32>(start, start + after);
            }
        }
        case 3u: { // circular: position start + j copies pixel j < after
            if (i < after) {
                return vec2<u32>(start + i, start + i + 1u);
            }
        }
        default: {}
    }
    return vec2<u32>(start, start);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = input_element(wid, lid);
    if (!e.inside) {
        return;
    }
    let wi = e.w;
    let hi = e.h;
    let plane = e.plane;
    let padded_h = params.h + params.pad_top + params.pad_bottom;
    let padded_w = params.w + params.pad_left + params.pad_right;
    // Per axis, three ranges in increasing order: before, the pixel itself, after.
    var rows = array<vec2<u32>, 3>(
        copies_before(hi, params.h, params.pad_top),
        vec2<u32>(hi + params.pad_top, hi + params.pad_top + 1u),
        copies_after(hi, params.h, params.pad_top, params.pad_bottom),
    );
    var cols = array<vec2<u32>, 3>(
        copies_before(wi, params.w, params.pad_left),
        vec2<u32>(wi + params.pad_left, wi + params.pad_left + 1u),
        copies_after(wi, params.w, params.pad_left, params.pad_right),
    );
    var acc = 0.0;
    for (var a = 0u; a < 3u; a++) {
        for (var hp = rows[a].x; hp < rows[a].y; hp++) {
            let row = (plane * padded_h + hp) * padded_w;
            for (var b = 0u; b < 3u; b++) {
                for (var wp = cols[b].x; wp < cols[b].y; wp++) {
                    acc += dx_padded[row + wp];
                }
            }
        }
    }
    dx[e.index] = acc;
}
