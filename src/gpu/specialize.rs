//! Simple kernels compiled for one layer's shape: the composed WGSL with every shape field of
//! `params` (all but N, the grid and `write_z`) written as a constant, so that the driver's
//! compiler unrolls the R×S loops and divides by constants. The arithmetic is the same, in the
//! same order (tests/specialize.rs compares the two bit for bit); on lavapipe the forward of
//! the digits layer runs about twice as fast. Compiled on first use of a shape and kept by the
//! context; a specialisation that fails to compile falls back to the generic kernel. Off in a
//! browser, where every compile delays the page ([`GpuContext::set_specialize`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::gpu::kernel::Kernel;
use crate::gpu::params::ConvParams;
use crate::gpu::table::{self, KernelDesc};
use crate::gpu::GpuContext;

/// Shapes kept at most per context (beyond it, kernels run generic).
const MAX_KEPT: usize = 256;

/// The kernels that are specialised: the simple forward, dW and dX and the window forward, dW
/// and dX (with or without bias).
fn specialisable(desc: &KernelDesc) -> bool {
    [
        table::FORWARD.name,
        table::BWD_WEIGHT.name,
        table::BWD_WEIGHT_WINDOW.name,
        table::FORWARD_WINDOW.name,
        table::BWD_INPUT.name,
        table::BWD_INPUT_WINDOW.name,
    ]
    .contains(&desc.name)
}

/// The fields written as constants, with their values.
fn fixed_fields(p: &ConvParams) -> [(&'static str, u32); 19] {
    [
        ("c", p.c),
        ("h", p.h),
        ("w", p.w),
        ("k", p.k),
        ("r", p.r),
        ("s", p.s),
        ("p", p.p),
        ("q", p.q),
        ("stride_h", p.stride_h),
        ("stride_w", p.stride_w),
        ("pad_top", p.pad_top),
        ("pad_bottom", p.pad_bottom),
        ("pad_left", p.pad_left),
        ("pad_right", p.pad_right),
        ("pad_mode", p.pad_mode),
        ("dilation_h", p.dilation_h),
        ("dilation_w", p.dilation_w),
        ("conv_groups", p.conv_groups),
        ("relu", p.relu),
    ]
}

/// `source` with each `params.FIELD` of `fixed` replaced by the literal `VALUEu`.
pub fn specialised_source(source: &str, fixed: &[(&str, u32)]) -> String {
    const PREFIX: &str = "params.";
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find(PREFIX) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let tail = &rest[at + PREFIX.len()..];
        let len = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let value = fixed.iter().find(|(f, _)| *f == &tail[..len]);
        out += &rest[..at];
        match value {
            Some((_, v)) if before_ok => out += &format!("{v}u"),
            _ => out += &rest[at..at + PREFIX.len() + len],
        }
        rest = &tail[len..];
    }
    out + rest
}

/// Loops of at most this many iterations are unrolled by [`unrolled_loops`].
const MAX_UNROLL: u32 = 16;
/// An unrolled source grows to at most this many bytes (beyond it, loops stay loops).
const MAX_UNROLLED_LEN: usize = 1 << 17;

/// `source` with every loop `for (var I = 0u; I < Nu; I++) { BODY }` of N ≤ 16 iterations
/// whose body has no `break` or `continue` written out as N blocks `{ let I = 0u; BODY }
/// { let I = 1u; BODY } …`, inner loops first: the same operations in the same order.
pub fn unrolled_loops(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find(LOOP) {
        out += &rest[..at];
        let tail = &rest[at..];
        match counted_loop(tail) {
            Some((name, count, body, len)) => {
                let body = unrolled_loops(body);
                let copies: String = (0..count)
                    .map(|i| format!("{{ let {name} = {i}u;{body}}}"))
                    .collect();
                if out.len() + copies.len() + tail.len() > MAX_UNROLLED_LEN {
                    out += &tail[..len];
                } else {
                    out += &copies;
                }
                rest = &tail[len..];
            }
            None => {
                out += LOOP;
                rest = &tail[LOOP.len()..];
            }
        }
    }
    out + rest
}

const LOOP: &str = "for (var ";

/// The loop `for (var I = 0u; I < Nu; I++) {BODY}` that `s` starts with, when N ≤ 16 and BODY
/// has no `break` or `continue`: (I, N, BODY, the loop's length in bytes).
fn counted_loop(s: &str) -> Option<(&str, u32, &str, usize)> {
    let rest = s.strip_prefix(LOOP)?;
    let name_len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let name = &rest[..name_len];
    let rest = rest[name_len..].strip_prefix(" = 0u; ")?;
    let rest = rest.strip_prefix(name)?.strip_prefix(" < ")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let count: u32 = rest[..digits].parse().ok()?;
    let rest = rest[digits..].strip_prefix("u; ")?;
    let body_at = rest.strip_prefix(name)?.strip_prefix("++) {")?;
    if count > MAX_UNROLL {
        return None;
    }
    let mut depth = 1usize;
    let end = body_at.char_indices().find_map(|(i, c)| {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let body = &body_at[..end];
    if body.contains("break") || body.contains("continue") {
        return None;
    }
    Some((name, count, body, s.len() - body_at.len() + end + 1))
}

/// (kernel name, with a bias, the fixed fields' values).
type Key = (&'static str, Option<bool>, [u32; 19]);

/// A context's specialised kernels, and whether it makes them.
pub(crate) struct Specialised {
    on: AtomicBool,
    kept: Mutex<HashMap<Key, Option<Arc<Kernel>>>>,
}

impl Specialised {
    pub(crate) fn new() -> Self {
        Specialised {
            on: AtomicBool::new(!cfg!(target_arch = "wasm32")),
            kept: Mutex::new(HashMap::new()),
        }
    }
}

impl GpuContext {
    /// Whether the simple kernels are compiled for each layer's shape (on by default, off in a
    /// browser). Both ways give the same bits; only the speed and the compile time differ.
    pub fn set_specialize(&self, on: bool) {
        self.specialised.on.store(on, Ordering::Relaxed);
    }

    pub fn specializes(&self) -> bool {
        self.specialised.on.load(Ordering::Relaxed)
    }

    /// (specialised kernels compiled, specialisations that failed to compile and run generic).
    #[doc(hidden)]
    pub fn specialised_counts(&self) -> (usize, usize) {
        self.specialised.kept.lock().map_or((0, 0), |kept| {
            let failed = kept.values().filter(|k| k.is_none()).count();
            (kept.len() - failed, failed)
        })
    }

    /// `base` compiled for the shape in `params`, where `base` is one of the specialised
    /// kernels and specialising is on; None means: run `base`.
    pub(crate) fn specialised(&self, base: &Kernel, params: &ConvParams) -> Option<Arc<Kernel>> {
        if !self.specializes() || !specialisable(base.desc) {
            return None;
        }
        let fields = fixed_fields(params);
        let key = (base.desc.name, base.desc.has_bias(), fields.map(|(_, v)| v));
        let mut kept = self.specialised.kept.lock().ok()?;
        if let Some(kernel) = kept.get(&key) {
            return kernel.clone();
        }
        if kept.len() >= MAX_KEPT {
            return None;
        }
        let mut source = specialised_source(&base.desc.source(), &fields);
        if base.desc.name == table::BWD_WEIGHT_WINDOW.name {
            source = unrolled_loops(&source);
        }
        let kernel = self
            .scoped("compiling a specialised kernel", || {
                Kernel::compile(&self.device, base.desc, source)
            })
            .ok()
            .map(Arc::new);
        kept.insert(key, kernel.clone());
        kernel
    }
}
