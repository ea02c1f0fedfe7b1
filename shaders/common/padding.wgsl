// common/padding.wgsl — what a padded coordinate reads. Twin of `PaddingMode::source`.

// The pixel of an axis of `len` pixels that coordinate i reads (i < 0 or i ≥ len inside the
// padding), or −1 where it reads zero. Modes (`PaddingMode::code`): 0 zeros, 1 reflect
// (x[−1] = x[1]), 2 replicate (x[−1] = x[0]), 3 circular (x[−1] = x[len − 1]). The host keeps
// reflect's padding < len and circular's ≤ len, so one reflection or wrap is enough.
fn padded_source(i: i32, len: i32, mode: u32) -> i32 {
    if (i >= 0 && i < len) {
        return i;
    }
    switch mode {
        case 1u: {
            return select(2 * (len - 1) - i, -i, i < 0);
        }
        case 2u: {
            return clamp(i, 0, len - 1);
        }
        case 3u: {
            return select(i - len, i + len, i < 0);
        }
        default: {
            return -1;
        }
    }
}
