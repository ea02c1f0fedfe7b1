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

#[test]
fn every_shader_validates_and_matches_its_params_struct() {
    use wgconv::gpu::sources::*;
    use wgconv::gpu::{ConvParams, LossParams, SgdParams, TinyParams};
    let conv = (
        ConvParams::WGSL_NAME,
        ConvParams::FIELDS,
        std::mem::size_of::<ConvParams>(),
    );
    let loss = (
        LossParams::WGSL_NAME,
        LossParams::FIELDS,
        std::mem::size_of::<LossParams>(),
    );
    let tiny = (
        TinyParams::WGSL_NAME,
        TinyParams::FIELDS,
        std::mem::size_of::<TinyParams>(),
    );
    let sgd = (
        SgdParams::WGSL_NAME,
        SgdParams::FIELDS,
        std::mem::size_of::<SgdParams>(),
    );
    for (file, src, params) in [
        ("conv2d_bias_relu_fwd.wgsl", CONV2D_BIAS_RELU_FWD_WGSL, conv),
        (
            "conv2d_bias_relu_fwd_tiled.wgsl",
            CONV2D_BIAS_RELU_FWD_TILED_WGSL,
            conv,
        ),
        ("loss_mse_relu_bwd.wgsl", LOSS_MSE_RELU_BWD_WGSL, loss),
        ("loss_reduce.wgsl", LOSS_REDUCE_WGSL, loss),
        ("conv2d_bwd_weight.wgsl", CONV2D_BWD_WEIGHT_WGSL, conv),
        ("conv2d_bwd_input.wgsl", CONV2D_BWD_INPUT_WGSL, conv),
        ("sgd_update.wgsl", SGD_UPDATE_WGSL, sgd),
        ("train_tiny.wgsl", TRAIN_TINY_WGSL, tiny),
        (
            "conv2d_bwd_weight_tiled.wgsl",
            CONV2D_BWD_WEIGHT_TILED_WGSL,
            conv,
        ),
        (
            "conv2d_bwd_weight_reduce.wgsl",
            CONV2D_BWD_WEIGHT_REDUCE_WGSL,
            conv,
        ),
        (
            "conv2d_bwd_input_tiled.wgsl",
            CONV2D_BWD_INPUT_TILED_WGSL,
            conv,
        ),
    ] {
        let m = module(src, file);
        assert_layout(&m, params.0, params.1, params.2);
        // Each header names its CPU twin(s), which must exist in src/cpu.
        let header: String = src
            .lines()
            .skip_while(|l| !l.starts_with("// CPU twin"))
            .take_while(|l| l.starts_with("//"))
            .collect();
        let twins: Vec<&str> = header.split('`').skip(1).step_by(2).collect();
        assert!(!twins.is_empty(), "{file}: no `// CPU twin:` line");
        let cpu_src = include_str!("../src/cpu/mod.rs");
        for twin in twins {
            let name = twin.trim_start_matches("cpu::");
            assert!(
                cpu_src.contains(&format!("pub fn {name}")),
                "{file}: CPU twin {twin} not found"
            );
        }
    }
}
