//! Kernel parameter structs: each is the one source of truth for the WGSL struct of the same
//! name, which the composer writes from its fields (`ParamsLayout::wgsl`); `tests/shaders.rs`
//! checks the two layouts agree through naga.

/// A params struct's name and fields, as the WGSL composer needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamsLayout {
    pub name: &'static str,
    /// (name, type) of every field in declaration order; field i sits at 4·i bytes.
    pub fields: &'static [(&'static str, &'static str)],
    /// Bytes of the Rust struct.
    pub size: usize,
}

impl ParamsLayout {
    /// The WGSL struct declaration.
    pub fn wgsl(&self) -> String {
        let mut out = format!("struct {} {{\n", self.name);
        for (field, ty) in self.fields {
            out += &format!("    {field}: {ty},\n");
        }
        out + "}\n"
    }
}

/// Declares a `#[repr(C)]` params struct of 4-byte scalar fields (u32 or f32) and the list of
/// its fields, from which the composer writes the WGSL struct of the same name.
macro_rules! gpu_params {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ident),+ $(,)? }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)+
        }
        impl $name {
            /// (name, type) of every field in declaration order; field i sits at 4·i bytes.
            pub const FIELDS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), stringify!($ty))),+];
            /// The WGSL struct this generates.
            pub const WGSL_NAME: &'static str = stringify!($name);
            /// Name and fields together.
            pub const LAYOUT: ParamsLayout = ParamsLayout {
                name: Self::WGSL_NAME,
                fields: Self::FIELDS,
                size: std::mem::size_of::<Self>(),
            };
        }
    };
}

gpu_params! {
    /// The shape of one convolution and its folded grid. Used by every convolution kernel:
    /// `conv2d_bias_relu_fwd*.wgsl`, `conv2d_bwd_weight*.wgsl`, `conv2d_bwd_input*.wgsl`.
    ConvParams {
        n: u32, c: u32, h: u32, w: u32, k: u32, r: u32, s: u32, p: u32, q: u32,
        stride_h: u32, stride_w: u32,
        /// Padding on each side; what it reads is `pad_mode` (`PaddingMode::code`).
        pad_top: u32, pad_bottom: u32, pad_left: u32, pad_right: u32, pad_mode: u32,
        dilation_h: u32, dilation_w: u32,
        /// Groups G (C and K are multiples of it).
        conv_groups: u32,
        /// 1 to also write the pre-activation z (forward only).
        write_z: u32,
        /// Workgroups along x and y of the folded grid.
        groups_x: u32, groups_y: u32,
        /// Slices of the N·P·Q reduction (the tiled weight gradient).
        splits: u32,
        /// 1 for a ReLU after the convolution (forward only), 0 for none.
        relu: u32,
    }
}

gpu_params! {
    /// Used by `loss_mse_relu_bwd.wgsl` and `loss_reduce.wgsl`.
    LossParams {
        /// Elements of y and t: M = N·K·P·Q.
        m: u32,
        /// Workgroup partial sums written by the first kernel and read by the second.
        partials: u32,
        groups_x: u32, groups_y: u32,
        /// 2/M, the factor of dL/dy.
        scale: f32,
        /// 1 to pass dL/dy through the ReLU (dz = 0 where y ≤ 0: the trainer's fused layer),
        /// 0 for the plain MSE of two tensors.
        relu_mask: u32,
        pad1: u32, pad2: u32,
    }
}

gpu_params! {
    /// Used by `sgd_update.wgsl`.
    SgdParams {
        /// Parameters in this tensor.
        len: u32,
        /// 1 for Nesterov momentum.
        nesterov: u32,
        lr: f32, momentum: f32, weight_decay: f32,
        groups_x: u32, groups_y: u32,
        pad0: u32,
    }
}

gpu_params! {
    /// Used by `fused_loop.wgsl`: the layer, the loop and the optimiser.
    FusedLoopParams {
        n: u32, c: u32, h: u32, w: u32, k: u32, r: u32, s: u32, p: u32, q: u32,
        stride_h: u32, stride_w: u32, pad_top: u32, pad_left: u32, pad_mode: u32,
        dilation_h: u32, dilation_w: u32, conv_groups: u32,
        /// Steps this dispatch runs.
        steps: u32,
        /// Invocations per gradient element (a power of two).
        lanes: u32,
        nesterov: u32,
        lr: f32, momentum: f32, weight_decay: f32,
        /// 2/M.
        scale: f32,
    }
}

gpu_params! {
    /// Used by `relu_bwd.wgsl`: one invocation per element.
    ElementwiseParams {
        /// Elements.
        len: u32,
        groups_x: u32, groups_y: u32,
        pad0: u32,
    }
}

gpu_params! {
    /// Used by `gather_rows.wgsl`: one invocation per word copied.
    GatherParams {
        /// Rows gathered, words per row, and the first index used.
        rows: u32, row_len: u32, start: u32,
        groups_x: u32, groups_y: u32,
        pad0: u32, pad1: u32, pad2: u32,
    }
}

gpu_params! {
    /// Used by `max_pool2d_fwd.wgsl` and `max_pool2d_bwd.wgsl`.
    PoolParams {
        n: u32, c: u32, h: u32, w: u32,
        /// Output height and width.
        p: u32, q: u32,
        kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
        /// Implicit padding on each side (never picked).
        pad_h: u32, pad_w: u32,
        groups_x: u32, groups_y: u32,
        /// 1 to write the winners' positions (a training forward).
        save_index: u32,
        pad0: u32,
    }
}

gpu_params! {
    /// Used by `loss_cross_entropy.wgsl`.
    CrossEntropyParams {
        /// Samples N and classes.
        n: u32, classes: u32,
        groups_x: u32, groups_y: u32,
        /// 1/N, the factor of the gradient (the loss is the mean over the batch).
        scale: f32,
        pad0: u32, pad1: u32, pad2: u32,
    }
}

// Uniform structs are sized in multiples of 16 bytes.
const _: () = assert!(std::mem::size_of::<ConvParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<FusedLoopParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<LossParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<SgdParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<ElementwiseParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<PoolParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<GatherParams>().is_multiple_of(16));
const _: () = assert!(std::mem::size_of::<CrossEntropyParams>().is_multiple_of(16));
