//! Twin of `shaders/gather_rows.wgsl`.

/// The `row_len`-element rows of `src` that `indices` name, in that order (bit copies).
pub fn gather_rows<T: Copy>(src: &[T], row_len: usize, indices: &[u32]) -> Vec<T> {
    indices
        .iter()
        .flat_map(|&j| {
            let start = j as usize * row_len;
            src[start..start + row_len].iter().copied()
        })
        .collect()
}
