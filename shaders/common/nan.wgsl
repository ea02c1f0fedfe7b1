// common/nan.wgsl — NaN told by its bits, which no fast-math assumption about NaN removes.

fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}
