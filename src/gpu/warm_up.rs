//! Running every kernel once, on a layer of a few pixels: some drivers (Mesa's llvmpipe behind
//! OpenGL) compile a kernel at its first dispatch, not when its pipeline is created, and with a
//! cold shader cache that takes minutes. Warming up moves that time to where the caller expects
//! it (the CLI does it while opening the device, under its compile timeout).

use crate::error::Result;
use crate::gpu::{
    Conv2d, Conv2dConfig, GpuContext, KernelVersion, TrainVersions, Trainer, TrainerOptions,
};
use crate::sgd::Sgd;
use crate::tensor::Tensor4;

impl GpuContext {
    /// Runs two training steps (the last with dX) with every kernel version: simple, tiled and
    /// the fused loop where the adapter has it, so that every kernel has run once.
    pub fn warm_up(&self) -> Result<()> {
        let config = Conv2dConfig::new(1, 1, (1, 1));
        let x = Tensor4::new("x", [1, 1, 2, 2], vec![0.5, -0.25, 1.0, 0.75])?;
        let t = Tensor4::new("t", [1, 1, 2, 2], vec![0.0, 0.5, 1.0, 0.25])?;
        let w = Tensor4::new("w", [1, 1, 1, 1], vec![0.5])?;
        for versions in [
            TrainVersions::all(KernelVersion::Simple),
            TrainVersions::all(KernelVersion::Tiled),
            TrainVersions::fused(),
        ] {
            let layer = Conv2d::from_weights(self, config, &w, Some(&[0.1]))?;
            let options = TrainerOptions::new(Sgd::new(0.1))
                .with_log_capacity(2)
                .with_versions(versions);
            Trainer::new(layer, &x, &t, options)?.run(2, true, |_, _| {})?;
        }
        Ok(())
    }
}
