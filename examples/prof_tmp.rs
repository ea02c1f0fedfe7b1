use std::time::Instant;
use wgconv::gpu::KernelVersion::{Simple, Tiled};
use wgconv::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = GpuContext::new(&AdapterRequest::from_env())?;
    let conv = Conv2d::new(&ctx, Conv2dConfig::new(1, 8, (5, 5)), 0)?;
    let pool = MaxPool2d::new(2, 2);
    let fc = Linear::new(&ctx, 800, 10, 1)?;
    let fc_map = Conv2d::new(
        &ctx,
        Conv2dConfig::new(8, 10, (10, 10)).with_activation(Activation::None),
        1,
    )?;
    let x = DeviceTensor::upload(
        &ctx,
        "x",
        &Tensor4::new(
            "x",
            [64, 1, 24, 24],
            (0..64 * 576).map(|i| (i % 7) as f32 * 0.1).collect(),
        )?,
    )?;
    let labels = DeviceLabels::upload(&ctx, &vec![1u32; 64], 10)?;
    let time = |name: &str, f: &mut dyn FnMut() -> DeviceTensor| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let d = f();
            let _ = d.download(&ctx);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
        println!("{name:<34} {best:8.2} ms (best of 5)");
    };
    let (y1, s1) = conv.forward_train(&x)?;
    let (y2, s2) = pool.forward_train(&y1)?;
    let (y3, s3) = fc.forward_train(&y2)?;
    let (_l, d3) = cross_entropy(&ctx, &y3, &labels)?;
    let _ = &s3;
    let g3 = fc.backward(&s3, &d3, true)?;
    let d2 = pool.backward(&s2, g3.input.as_ref().unwrap())?;
    time("conv fwd (simple)", &mut || {
        conv.forward_with(
            &x,
            ForwardOptions {
                want_z: false,
                kernel: Some(Simple),
            },
        )
        .unwrap()
        .y
    });
    time("conv fwd (tiled)", &mut || {
        conv.forward_with(
            &x,
            ForwardOptions {
                want_z: false,
                kernel: Some(Tiled),
            },
        )
        .unwrap()
        .y
    });
    time("pool fwd", &mut || pool.forward_train(&y1).unwrap().0);
    time("fc fwd 1x1 simple", &mut || {
        fc.as_conv()
            .forward_with(
                &y2.reshape([64, 800, 1, 1]).unwrap(),
                ForwardOptions {
                    want_z: false,
                    kernel: Some(Simple),
                },
            )
            .unwrap()
            .y
    });
    time("fc fwd 1x1 tiled", &mut || {
        fc.as_conv()
            .forward_with(
                &y2.reshape([64, 800, 1, 1]).unwrap(),
                ForwardOptions {
                    want_z: false,
                    kernel: Some(Tiled),
                },
            )
            .unwrap()
            .y
    });
    time("fc fwd full-map simple", &mut || {
        fc_map
            .forward_with(
                &y2,
                ForwardOptions {
                    want_z: false,
                    kernel: Some(Simple),
                },
            )
            .unwrap()
            .y
    });
    time("fc fwd full-map tiled", &mut || {
        fc_map
            .forward_with(
                &y2,
                ForwardOptions {
                    want_z: false,
                    kernel: Some(Tiled),
                },
            )
            .unwrap()
            .y
    });
    time("ce", &mut || cross_entropy(&ctx, &y3, &labels).unwrap().1);
    for (wv, xv) in [
        (Simple, Simple),
        (Tiled, Simple),
        (Simple, Tiled),
        (Tiled, Tiled),
    ] {
        let o = BackwardOptions {
            input_grad: true,
            weight_kernel: Some(wv),
            input_kernel: Some(xv),
        };
        time(&format!("fc bwd dW {wv:?} dX {xv:?}"), &mut || {
            fc.as_conv()
                .backward_with(fc_saved(&fc, &y2), &d3, o)
                .unwrap()
                .weight
        });
        let map = fc.whole_map_conv(y2.dims()).unwrap();
        let saved: &'static Conv2dSaved = Box::leak(Box::new(map.forward_train(&y2).unwrap().1));
        time(
            &format!("fc whole-map bwd dW {wv:?} dX {xv:?}"),
            &mut || map.backward_with(saved, &d3, o).unwrap().weight,
        );
    }
    time("pool bwd", &mut || {
        pool.backward(&s2, g3.input.as_ref().unwrap()).unwrap()
    });
    for wv in [Simple, Tiled] {
        let o = BackwardOptions {
            input_grad: false,
            weight_kernel: Some(wv),
            input_kernel: None,
        };
        time(&format!("conv bwd dW {wv:?}"), &mut || {
            conv.backward_with(&s1, &d2, o).unwrap().weight
        });
    }
    Ok(())
}
fn fc_saved(fc: &Linear, y2: &DeviceTensor) -> &'static Conv2dSaved {
    Box::leak(Box::new(
        fc.as_conv()
            .forward_train(&y2.reshape([64, 800, 1, 1]).unwrap())
            .unwrap()
            .1,
    ))
}
