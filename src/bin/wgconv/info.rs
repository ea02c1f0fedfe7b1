//! `wgconv info`: the adapters, the chosen one, its key limits and features.

use std::process::ExitCode;

use wgconv::{AdapterRequest, GpuContext};

pub fn run(request: &AdapterRequest) -> anyhow::Result<ExitCode> {
    let adapters = wgconv::gpu::list_adapters(request)?;
    println!("adapters (best first):");
    for a in &adapters {
        println!("  {a}");
    }
    let ctx = GpuContext::new(request)?;
    println!("chosen: {}", ctx.adapter());
    let l = ctx.key_limits();
    let (cap, limit) = ctx.binding_limit();
    let rows = [
        (
            "max_storage_buffer_binding_size",
            format!("{} bytes", l.max_storage_buffer_binding_size),
        ),
        ("max_buffer_size", format!("{} bytes", l.max_buffer_size)),
        (
            "max_compute_workgroups_per_dim",
            l.max_compute_workgroups_per_dimension.to_string(),
        ),
        (
            "max_invocations_per_workgroup",
            l.max_compute_invocations_per_workgroup.to_string(),
        ),
        (
            "max_workgroup_storage_size",
            format!("{} bytes", l.max_compute_workgroup_storage_size),
        ),
        (
            "max_storage_buffers_per_stage",
            l.max_storage_buffers_per_shader_stage.to_string(),
        ),
        (
            "largest tensor per binding",
            format!("{cap} bytes (set by {limit})"),
        ),
    ];
    println!("limits:");
    for (name, value) in rows {
        println!("  {name:<32} {value}");
    }
    println!("features:");
    let timestamps = if l.timestamp_query { "yes" } else { "no" };
    println!("  {:<32} {timestamps}", "timestamp queries");
    Ok(ExitCode::SUCCESS)
}
