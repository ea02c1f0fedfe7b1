//! Running kernels once, on a layer of a few pixels: some drivers (Mesa's llvmpipe behind
//! OpenGL) compile a kernel at its first dispatch, not when its pipeline is created, and with a
//! cold shader cache that takes minutes. Warming up moves that time to where the caller expects
//! it (the CLI does it while opening the device, under its compile timeout), for the kernels the
//! work will use.

use crate::error::Result;
use crate::gpu::{
    Conv2d, Conv2dConfig, DeviceTensor, ForwardOptions, GpuContext, KernelVersion, TrainVersions,
    Trainer, TrainerOptions,
};
use crate::sgd::Sgd;
use crate::shape::PaddingMode;
use crate::tensor::Tensor4;

/// Kernels to run once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmUp {
    /// A forward pass of this version, with z.
    Forward(KernelVersion),
    /// Two training steps with these versions, the last with dX.
    Train(TrainVersions),
    /// Every kernel: both forward versions, training with simple, tiled and the fused loop.
    All,
}

const ALL: [WarmUp; 3] = [
    WarmUp::Train(TrainVersions::all(KernelVersion::Simple)),
    WarmUp::Train(TrainVersions::all(KernelVersion::Tiled)),
    WarmUp::Train(TrainVersions::fused()),
];

impl GpuContext {
    /// Runs the kernels `what` names once on a 1×1 filter over a 2×2 image, with and without
    /// bias (each has its own kernels), the layer with bias under reflect padding so that
    /// training also runs the dX fold. Leaves no buffer.
    pub fn warm_up(&self, what: &[WarmUp]) -> Result<()> {
        let with_bias = Conv2dConfig::new(1, 1, (1, 1))
            .with_padding((1, 1))
            .with_padding_mode(PaddingMode::Reflect);
        let without_bias = Conv2dConfig::new(1, 1, (1, 1)).with_bias(false);
        let x = Tensor4::new("x", [1, 1, 2, 2], vec![0.5, -0.25, 1.0, 0.75])?;
        let w = Tensor4::new("w", [1, 1, 1, 1], vec![0.5])?;
        let layers = || -> Result<[Conv2d; 2]> {
            Ok([
                Conv2d::from_weights(self, with_bias, &w, Some(&[0.1]))?,
                Conv2d::from_weights(self, without_bias, &w, None)?,
            ])
        };
        for item in what {
            match *item {
                WarmUp::Forward(version) => {
                    let options = ForwardOptions {
                        want_z: true,
                        kernel: Some(version),
                    };
                    let x = DeviceTensor::upload(self, "x", &x)?;
                    for layer in layers()? {
                        layer.forward_with(&x, options)?.y.download(self)?;
                    }
                }
                WarmUp::Train(versions) => {
                    let options = TrainerOptions::new(Sgd::new(0.1))
                        .with_log_capacity(2)
                        .with_versions(versions);
                    for layer in layers()? {
                        let shape = layer.config().shape_for(x.dims)?;
                        let t_dims = [shape.n, shape.k, shape.p(), shape.q()];
                        let t = Tensor4::zeros(t_dims.map(|d| d as usize));
                        Trainer::new(layer, &x, &t, options)?.run(2, true, |_, _| {})?;
                    }
                }
                WarmUp::All => self.warm_up(&ALL)?,
            }
        }
        Ok(())
    }
}
