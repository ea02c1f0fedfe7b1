//! WGSL composition. WGSL has no includes, so a kernel's source is put together here: its own
//! file from `shaders/`, then the constants it shares with Rust (written from the Rust constants
//! of `gpu::wgsl`), its params struct (written from the Rust struct), and the `shaders/common/`
//! pieces it lists. The kernel's file comes first so that line numbers in compiler messages are
//! its own.

use std::fmt::Write;

use crate::gpu::table::KernelDesc;

impl KernelDesc {
    /// The composed WGSL.
    pub fn source(&self) -> String {
        let mut out = String::from(self.body);
        let _ = writeln!(
            out,
            "\n// ---- Composed by wgconv (src/gpu/compose.rs): constants shared with Rust.\n"
        );
        let [x, y, z] = self.workgroup_size;
        let consts = self
            .common
            .iter()
            .flat_map(|c| c.consts())
            .chain(self.consts);
        for (name, value) in std::iter::once(&("WORKGROUP_SIZE", x * y * z)).chain(consts) {
            let _ = writeln!(out, "const {name}: u32 = {value}u;");
        }
        if let Some(has_bias) = self.has_bias() {
            let _ = writeln!(out, "const HAS_BIAS: bool = {has_bias};");
        }
        if let Some(first) = self.bias_binding() {
            let _ = writeln!(out, "const BIAS_BINDING: u32 = {first}u;");
        }
        let _ = writeln!(
            out,
            "\n// ---- The params struct, from `gpu::params::{}`.\n",
            self.params.name
        );
        out += &self.params.wgsl();
        for piece in self.common {
            let _ = writeln!(out, "\n// ---- shaders/{}\n", piece.file());
            out += piece.source();
        }
        out
    }
}
