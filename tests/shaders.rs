//! Every composed kernel parses and validates, and agrees with its entry in the kernel table
//! (`wgconv::gpu::table`): bindings (count, name, uniform or storage, access), workgroup size and
//! workgroup memory, its params struct field by field (name, offset, size) with the Rust struct,
//! and its header comment names its bindings and a CPU twin that exists.

use wgconv::gpu::table::{self, Access, KernelDesc};
use wgconv::gpu::ParamsLayout;
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

/// Checks the WGSL struct `params.name` in `module` has exactly the Rust fields (name,
/// "u32" | "f32"), field i at 4·i bytes, and the Rust struct's size.
fn assert_layout(module: &naga::Module, params: &ParamsLayout) {
    let name = params.name;
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
    let rust: Vec<(String, u32)> = params
        .fields
        .iter()
        .enumerate()
        .map(|(i, (f, _))| (f.to_string(), 4 * i as u32))
        .collect();
    assert_eq!(wgsl, rust, "{name}: WGSL and Rust layouts differ");
    for (m, (field, ty)) in members.iter().zip(params.fields) {
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
    assert_eq!(*span as usize, params.size, "{name}: struct sizes differ");
}

/// (binding, name, access, type name) of every resource of group 0, by binding.
fn reflect_bindings(module: &naga::Module) -> Vec<(u32, String, Access, Option<String>)> {
    let mut out: Vec<_> = module
        .global_variables
        .iter()
        .filter_map(|(_, var)| {
            let binding = var.binding.as_ref()?;
            assert_eq!(binding.group, 0, "{:?} is not in group 0", var.name);
            let access = match var.space {
                naga::AddressSpace::Uniform => Access::Uniform,
                naga::AddressSpace::Storage { access }
                    if access.contains(naga::StorageAccess::STORE) =>
                {
                    Access::ReadWrite
                }
                naga::AddressSpace::Storage { .. } => Access::Read,
                other => panic!("{:?}: unexpected address space {other:?}", var.name),
            };
            let ty = module.types[var.ty].name.clone();
            Some((
                binding.binding,
                var.name.clone().unwrap_or_default(),
                access,
                ty,
            ))
        })
        .collect();
    out.sort_by_key(|b| b.0);
    out
}

/// Bytes of every `var<workgroup>` in the module.
fn workgroup_bytes(module: &naga::Module) -> u32 {
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("layout");
    module
        .global_variables
        .iter()
        .filter(|(_, var)| var.space == naga::AddressSpace::WorkGroup)
        .map(|(_, var)| layouter[var.ty].size)
        .sum()
}

/// Checks one composed kernel against its table entry; returns what disagrees.
fn table_mismatches(desc: &KernelDesc) -> Vec<String> {
    let name = desc.name;
    let m = module(&desc.source(), name);
    let mut wrong = Vec::new();
    let ep = m
        .entry_points
        .iter()
        .find(|e| e.name == "main")
        .unwrap_or_else(|| panic!("{name}: no entry point main"));
    if ep.workgroup_size != desc.workgroup_size {
        wrong.push(format!(
            "workgroup size {:?}, table {:?}",
            ep.workgroup_size, desc.workgroup_size
        ));
    }
    let bytes = workgroup_bytes(&m);
    if bytes != desc.workgroup_bytes {
        wrong.push(format!(
            "{bytes} bytes of workgroup memory, table {}",
            desc.workgroup_bytes
        ));
    }
    let shader: Vec<_> = reflect_bindings(&m)
        .into_iter()
        .map(|(i, name, access, _)| (i, name, access))
        .collect();
    let table: Vec<_> = (0u32..)
        .zip(desc.bindings)
        .map(|(i, b)| (i, b.name.to_string(), b.access))
        .collect();
    if shader != table {
        wrong.push(format!("bindings {shader:?}, table {table:?}"));
    }
    wrong
}

#[test]
fn every_kernel_matches_its_table_entry() {
    let wrong: Vec<String> = table::ALL
        .iter()
        .flat_map(|desc| {
            table_mismatches(desc)
                .into_iter()
                .map(move |w| format!("{}: {w}", desc.name))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_kernel_binds_its_params_struct_with_the_rust_layout() {
    for desc in table::ALL {
        let m = module(&desc.source(), desc.name);
        let params = &reflect_bindings(&m)[0];
        assert_eq!(
            (params.0, params.2, params.3.as_deref()),
            (0, Access::Uniform, Some(desc.params.name)),
            "{}: binding 0 is not its params struct",
            desc.name
        );
        assert_layout(&m, &desc.params);
    }
}

#[test]
fn table_names_are_unique_and_files_exist() {
    // A kernel and its variant without bias share a name and a file; nothing else does.
    let mut names: Vec<String> = table::ALL
        .iter()
        .map(|d| format!("{} {:?} {:?}", d.name, d.has_bias(), d.consts))
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), table::ALL.len());
    for desc in table::ALL {
        let path = format!("{}/shaders/{}.wgsl", env!("CARGO_MANIFEST_DIR"), desc.name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(on_disk, desc.body, "{path}: the table embeds another file");
    }
}

#[test]
fn the_hosts_workgroup_sizes_are_the_tables() {
    use wgconv::gpu::{fits_fused_loop, grids, FORWARD_WORKGROUP_SIZE};
    assert_eq!(
        table::FORWARD.workgroup_size,
        [FORWARD_WORKGROUP_SIZE, 1, 1]
    );
    // Each invocation of a tiled kernel holds 4×4 outputs of the tile.
    let [x, y, _] = table::FORWARD_TILED.workgroup_size;
    assert_eq!(grids::TILE, 4 * x);
    assert_eq!(grids::TILE, 4 * y);
    // The fused loop's limits, seen from the host: the notebook's layer fits.
    assert!(fits_fused_loop(&wgconv::ConvShape::SEED));
}

/// The lines `//   i  name  uniform|storage, read|storage, read_write ...` of a header.
fn header_bindings(src: &str) -> Vec<(u32, String, Access)> {
    src.lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| {
            let mut words = l.trim_start_matches("//").split_whitespace();
            let i: u32 = words.next()?.parse().ok()?;
            let name = words.next()?.to_string();
            let access = match (words.next()?, words.next()) {
                ("uniform", _) => Access::Uniform,
                ("storage,", Some("read")) => Access::Read,
                ("storage,", Some("read_write")) => Access::ReadWrite,
                _ => return None,
            };
            Some((i, name, access))
        })
        .collect()
}

#[test]
fn every_header_lists_its_bindings_and_names_cpu_twins() {
    let cpu_src = [
        include_str!("../src/cpu/mod.rs"),
        include_str!("../src/cpu/relu.rs"),
        include_str!("../src/cpu/pool.rs"),
        include_str!("../src/cpu/loss.rs"),
        include_str!("../src/cpu/gather.rs"),
        include_str!("../src/cpu/pack.rs"),
    ]
    .concat();
    for desc in table::ALL {
        let file = format!("{}.wgsl", desc.name);
        let table: Vec<_> = (0u32..)
            .zip(desc.bindings)
            .map(|(i, b)| (i, b.name.to_string(), b.access))
            .collect();
        let header = header_bindings(desc.body);
        if desc.has_bias() == Some(false) {
            // The variant without bias binds the header's list less its bias bindings (last).
            assert!(header.len() > table.len(), "{file}: header bindings");
            assert_eq!(header[..table.len()], table, "{file}: header bindings");
        } else {
            assert_eq!(header, table, "{file}: header bindings");
        }
        let header: String = desc
            .body
            .lines()
            .skip_while(|l| !l.starts_with("// CPU twin"))
            .take_while(|l| l.starts_with("//"))
            .collect();
        let twins: Vec<&str> = header.split('`').skip(1).step_by(2).collect();
        assert!(!twins.is_empty(), "{file}: no `// CPU twin:` line");
        for twin in twins {
            let name = twin.trim_start_matches("cpu::");
            assert!(
                cpu_src.contains(&format!("pub fn {name}")),
                "{file}: CPU twin {twin} not found"
            );
        }
    }
}

/// Tint, the WGSL compiler of Chrome's WebGPU (on this project's machines as `tint`), takes
/// every composed shader. It is stricter than naga: a constant expression that evaluates to an
/// infinity or NaN is an error there (naga took `bitcast<f32>(0xff800000u)` in
/// max_pool2d_fwd.wgsl; the page's WebGPU refused it).
#[test]
fn tint_accepts_every_composed_shader() {
    let dir = std::env::temp_dir().join(format!("wgconv-tint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut refused = Vec::new();
    for desc in table::ALL {
        let path = dir.join(format!("{}.wgsl", desc.name));
        std::fs::write(&path, desc.source()).expect("write shader");
        let out = std::process::Command::new("tint")
            .arg(&path)
            .args(["--format", "wgsl", "-o", "/dev/null"])
            .output()
            .expect("tint (the WGSL compiler, /usr/local/bin/tint on this machine kind) runs");
        if !out.status.success() {
            refused.push(format!(
                "{}: {}",
                desc.name,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(refused.is_empty(), "tint refused:\n{}", refused.join("\n"));
}
