//! The packed copies the window versions read: the weights in blocks of filters
//! (`conv2d_pack_weights.wgsl`, the forward) or of channels (`conv2d_pack_input_weights.wgsl`,
//! dX), and dz in blocks of filters (`conv2d_pack_output_grad.wgsl`, dW).

use crate::gpu::grids::forward_filter_block;
use crate::shape::ConvShape;

/// `w` (K, C/G, R, S) as (G·⌈(K/G)/F⌉, C/G, R, S, F), F = `forward_filter_block` (8, or 4 for
/// groups of at most 4 filters): element (block, tap, j) is filter g·K/G + F·(block mod
/// ⌈(K/G)/F⌉) + j of group g = block div ⌈(K/G)/F⌉ at `tap`, or 0 past the group's last filter.
pub fn pack_weights(shape: &ConvShape, w: &[f32]) -> Vec<f32> {
    let block = forward_filter_block(shape) as usize;
    let kg = shape.filters_per_group() as usize;
    let kblocks = kg.div_ceil(block);
    let taps = (shape.channels_per_group() * shape.r * shape.s) as usize;
    let mut out = vec![0.0; shape.groups as usize * kblocks * taps * block];
    for (i, v) in out.iter_mut().enumerate() {
        let (j, tap, b) = (i % block, (i / block) % taps, i / (block * taps));
        let kk = (b % kblocks) * block + j;
        if kk < kg {
            *v = w[((b / kblocks) * kg + kk) * taps + tap];
        }
    }
    out
}

/// `w` (K, C/G, R, S) as (K, ⌈(C/G)/4⌉, R, S, 4), as `conv2d_pack_input_weights.wgsl` copies
/// it for the window dX: element (k, block, tap, j) is w[k, 4·block + j, tap], or 0 past C/G.
pub fn pack_input_weights(shape: &ConvShape, w: &[f32]) -> Vec<f32> {
    let block = crate::gpu::table::CHANNEL_BLOCK as usize;
    let cg = shape.channels_per_group() as usize;
    let cblocks = cg.div_ceil(block);
    let taps = (shape.r * shape.s) as usize;
    let mut out = vec![0.0; shape.k as usize * cblocks * taps * block];
    for (i, v) in out.iter_mut().enumerate() {
        let (j, tap) = (i % block, (i / block) % taps);
        let (cb, k) = ((i / (block * taps)) % cblocks, i / (block * taps * cblocks));
        let ci = cb * block + j;
        if ci < cg {
            *v = w[(k * cg + ci) * taps + tap];
        }
    }
    out
}

/// `dz` (N, K, P, Q) as (N, P, Q, G·⌈(K/G)/4⌉, 4), as `conv2d_pack_output_grad.wgsl` copies it
/// for the window dW: element (n, p, q, block, j) is dz[n, k, p, q] for filter k = g·K/G +
/// 4·(block mod ⌈(K/G)/4⌉) + j of group g = block div ⌈(K/G)/4⌉, or 0 past the group's last.
pub fn pack_output_grad(shape: &ConvShape, dz: &[f32]) -> Vec<f32> {
    let block = crate::gpu::table::WEIGHT_FILTER_BLOCK as usize;
    let kg = shape.filters_per_group() as usize;
    let kblocks = kg.div_ceil(block);
    let blocks = shape.groups as usize * kblocks;
    let pq = (shape.p() * shape.q()) as usize;
    let mut out = vec![0.0; shape.n as usize * pq * blocks * block];
    for (i, v) in out.iter_mut().enumerate() {
        let (j, b, pixel) = (i % block, (i / block) % blocks, i / (block * blocks));
        let kk = (b % kblocks) * block + j;
        if kk < kg {
            let k = (b / kblocks) * kg + kk;
            *v = dz[((pixel / pq) * shape.k as usize + k) * pq + pixel % pq];
        }
    }
    out
}

/// `x` (N, C, H, W) as rows of `grids::input_rows_width` floats, as
/// `conv2d_pack_input_rows.wgsl` copies it for the window dW: element (n, c, h, j) is
/// x[n, c, h, j − pad_left], or 0 outside the row.
pub fn pack_input_rows(shape: &ConvShape, x: &[f32]) -> Vec<f32> {
    let width = crate::gpu::grids::input_rows_width(shape) as usize;
    let (w, left) = (shape.w as usize, shape.padding.left as usize);
    let rows = (shape.n * shape.c * shape.h) as usize;
    let mut out = vec![0.0; rows * width];
    for (i, v) in out.iter_mut().enumerate() {
        let (row, j) = (i / width, i % width);
        if (left..left + w).contains(&j) {
            *v = x[row * w + j - left];
        }
    }
    out
}

/// `dz` (N, K, P, Q) as rows of `grids::output_grad_rows_width` floats, as
/// `conv2d_pack_output_grad_rows.wgsl` copies it for the window dX: element (n, k, p, j) is
/// dz[n, k, p, j − lead] (lead = `grids::output_grad_rows_lead`), or 0 outside the row.
pub fn pack_output_grad_rows(shape: &ConvShape, dz: &[f32]) -> Vec<f32> {
    let width = crate::gpu::grids::output_grad_rows_width(shape) as usize;
    let lead = crate::gpu::grids::output_grad_rows_lead(shape) as usize;
    let q = shape.q() as usize;
    let rows = (shape.n * shape.k * shape.p()) as usize;
    let mut out = vec![0.0; rows * width];
    for (i, v) in out.iter_mut().enumerate() {
        let (row, j) = (i / width, i % width);
        if (lead..lead + q).contains(&j) {
            *v = dz[row * q + j - lead];
        }
    }
    out
}
