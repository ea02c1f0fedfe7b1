//! Kernel parameter structs: each is the one source of truth for a WGSL struct of the same
//! name and field order (a test compares the two layouts through naga).

/// Declares a `#[repr(C)]` all-u32 params struct and the list of its field names, so a test can
/// check the WGSL struct of the same name field by field.
macro_rules! gpu_params {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident),+ $(,)? }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fm])* pub $field: u32,)+
        }
        impl $name {
            /// Field names in declaration order; every field is a u32 at 4·index bytes.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
            /// The WGSL struct this mirrors.
            pub const WGSL_NAME: &'static str = stringify!($name);
        }
    };
}

gpu_params! {
    /// The uniform of `conv2d_bias_relu_fwd.wgsl`: the shape of one batch chunk and the grid.
    ConvParams {
        n, c, h, w, k, r, s, p, q,
        stride_h, stride_w, pad_h, pad_w,
        /// 1 to also write the pre-activation z.
        write_z,
        /// Workgroups along x and y of the folded grid.
        groups_x, groups_y,
    }
}
