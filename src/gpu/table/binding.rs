//! A kernel's bindings as the table names them: the WGSL variable and how it is read.

/// How a kernel reads one of its bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// One binding of group 0: the WGSL variable's name and how the kernel reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub name: &'static str,
    pub access: Access,
}

pub(super) const fn uniform(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::Uniform,
    }
}

pub(super) const fn read(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::Read,
    }
}

pub(super) const fn read_write(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::ReadWrite,
    }
}
