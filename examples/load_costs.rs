//! What a load costs against a multiply-add on this adapter: one dispatch of 64 workgroups × 64
//! invocations, each running a loop of 2,000 iterations that loads four floats (in one of
//! several ways) and adds 1 or 4 vec4 products, timed by the wall clock around a device wait
//! (best of 4). On llvmpipe, a storage load in a loop costs the same per float whether or not
//! the lanes share its address, and a vec4 load about what one f32 load does (BENCHMARKS.md,
//! 2026-12-02): the window kernels are built on that.
//!
//! `cargo run --release --example load_costs`

use std::time::Instant;

use wgpu::util::DeviceExt;

const ITERATIONS: u32 = 2000;
const WORKGROUPS: u32 = 64;

/// Each way to load a vec4 `v` in iteration `i` (`base`: the lane's offset, `wbase` the
/// workgroup's).
const LOADS: [(&str, &str); 7] = [
    ("4 f32, per-lane addresses", "let a = base + i * 4u; let v = vec4<f32>(x[a], x[a + 1u], x[a + 2u], x[a + 3u]);"),
    ("1 vec4, per-lane addresses", "let v = xv[base / 4u + i];"),
    ("4 f32, one address", "let a = wbase + i * 4u; let v = vec4<f32>(x[a], x[a + 1u], x[a + 2u], x[a + 3u]);"),
    ("1 vec4, one address", "let v = xv[wbase / 4u + i];"),
    ("4 f32, workgroup memory", "let a = (lid * 4u + i * 4u) & 1023u; let v = vec4<f32>(sh[a], sh[a + 1u], sh[a + 2u], sh[a + 3u]);"),
    ("1 vec4, uniform buffer", "let v = u[(lid + i) & 255u];"),
    ("none", "let v = vec4<f32>(f32(i));"),
];

fn shader(load: &str, products: u32) -> String {
    let adds: String = (0..products)
        .map(|j| format!("acc{j} = acc{j} + v * c{j};\n"))
        .collect();
    format!(
        r#"
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> xv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> u: array<vec4<f32>, 256>;
var<workgroup> sh: array<f32, 1028>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    for (var t = lid; t < 1028u; t += 64u) {{ sh[t] = f32(t); }}
    workgroupBarrier();
    let base = (wid.x * 64u + lid) * 8u;
    let wbase = wid.x * 8192u;
    var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
    let c0 = f32(lid); let c1 = c0 + 1.0; let c2 = c0 + 2.0; let c3 = c0 + 3.0;
    for (var i = 0u; i < {ITERATIONS}u; i++) {{
        {load}
        {adds}
    }}
    if (lid == 9999u) {{ y[1] = x[0] + xv[0].x + u[0].x + sh[5]; }}
    y[wid.x * 64u + lid] = dot(acc0 + acc1 + acc2 + acc3, vec4<f32>(1.0));
}}"#
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let instance = wgpu::Instance::new(desc);
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))?;
    println!("adapter: {}", adapter.get_info().name);
    let floats: Vec<f32> = (0..1 << 20).map(|i| (i % 7) as f32 * 0.001).collect();
    let buffer = |usage, contents: &[f32]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(contents),
            usage,
        })
    };
    let x = buffer(wgpu::BufferUsages::STORAGE, &floats);
    let u = buffer(wgpu::BufferUsages::UNIFORM, &floats[..1024]);
    let y = buffer(wgpu::BufferUsages::STORAGE, &floats);
    println!("ns per invocation and iteration (the dispatch's time × 2 cores ÷ invocations ÷ iterations)");
    println!(
        "{:28} {:>16} {:>16}",
        "loads", "1 vec4 product", "4 vec4 products"
    );
    for (name, load) in LOADS {
        let mut row = format!("{name:28}");
        for products in [1, 4] {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: None,
                source: wgpu::ShaderSource::Wgsl(shader(load, products).into()),
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: None,
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            let entries: Vec<wgpu::BindGroupEntry> = [&x, &x, &y, &u]
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: b.as_entire_binding(),
                })
                .collect();
            let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            let mut best = f64::MAX;
            for _ in 0..4 {
                let mut encoder = device.create_command_encoder(&Default::default());
                {
                    let mut pass = encoder.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&pipeline);
                    pass.set_bind_group(0, &bind, &[]);
                    pass.dispatch_workgroups(WORKGROUPS, 1, 1);
                }
                let start = Instant::now();
                queue.submit([encoder.finish()]);
                device.poll(wgpu::PollType::wait_indefinitely())?;
                best = best.min(start.elapsed().as_secs_f64());
            }
            let per = f64::from(WORKGROUPS * 64 * ITERATIONS);
            row += &format!(" {:>16.2}", best * 1e9 * 2.0 / per);
        }
        println!("{row}");
    }
    Ok(())
}
