//! Every WGSL file parses and validates, and each Rust params struct matches its WGSL twin
//! field by field (name, offset, size).

use wgpu::naga;

fn module(src: &str, name: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{name}: {e}"));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    module
}

/// Checks the WGSL struct `name` in `module` has exactly `fields` (name, "u32" | "f32"), field i
/// at 4·i bytes.
fn assert_layout(module: &naga::Module, name: &str, fields: &[(&str, &str)], rust_size: usize) {
    let ty = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name} in the shader"))
        .1;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct");
    };
    let wgsl: Vec<(String, u32)> = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
        .collect();
    let rust: Vec<(String, u32)> = fields
        .iter()
        .enumerate()
        .map(|(i, (f, _))| (f.to_string(), 4 * i as u32))
        .collect();
    assert_eq!(wgsl, rust, "{name}: WGSL and Rust layouts differ");
    for (m, (field, ty)) in members.iter().zip(fields) {
        let scalar = match *ty {
            "u32" => naga::Scalar::U32,
            "f32" => naga::Scalar::F32,
            other => panic!("{name}.{field}: unexpected Rust type {other}"),
        };
        assert_eq!(
            module.types[m.ty].inner,
            naga::TypeInner::Scalar(scalar),
            "{name}.{field} is not a {ty} in WGSL"
        );
    }
    assert_eq!(*span as usize, rust_size, "{name}: struct sizes differ");
}

#[test]
fn forward_shader_validates_and_matches_conv_params() {
    use wgconv::gpu::ConvParams;
    let m = module(
        wgconv::gpu::CONV2D_BIAS_RELU_FWD_WGSL,
        "conv2d_bias_relu_fwd.wgsl",
    );
    assert_layout(
        &m,
        ConvParams::WGSL_NAME,
        ConvParams::FIELDS,
        std::mem::size_of::<ConvParams>(),
    );
    // The host's workgroup size must be the shader's.
    let ep = m
        .entry_points
        .iter()
        .find(|e| e.name == "main")
        .expect("main");
    assert_eq!(
        ep.workgroup_size,
        [wgconv::gpu::FORWARD_WORKGROUP_SIZE, 1, 1]
    );
}
