//! `wgconv bench --network`: every op validated against its twin, then timed (by GPU timestamps
//! or, with `--timer wall`, the wall clock); bad flags refused with exit 2.

mod common;

#[test]
fn bench_network_validates_and_times_every_op() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::wgconv(
        dir.path(),
        &[
            "bench",
            "--network",
            "--batch",
            "4",
            "--repeats",
            "2",
            "--warmup",
            "0",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for op in wgconv::bench::ROW_OPS {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(op))
            .unwrap_or_else(|| {
                panic!("no row for {op}: {}", run.stdout);
            });
        assert!(!line.contains("NaN"), "{line}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "bench writes nothing"
    );
}

#[test]
fn bench_network_timer_wall_times_every_op_by_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::wgconv(
        dir.path(),
        &[
            "bench",
            "--network",
            "--batch",
            "4",
            "--repeats",
            "2",
            "--warmup",
            "0",
            "--timer",
            "wall",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for op in wgconv::bench::ROW_OPS {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(op))
            .unwrap_or_else(|| panic!("no row for {op}: {}", run.stdout));
        assert!(line.ends_with("wall clock"), "{line}");
    }
}

#[test]
fn bench_network_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["bench", "--network", "--filters", "0"][..],
        &["bench", "--network", "--batch", "0"],
        &["bench", "--network", "--batch", "100000"],
        &["bench", "--network", "--repeats", "0"],
        &["bench", "--network", "--shape", "1,1,8,8,1,3,3,1,0"],
        &["bench", "--filters", "4"],
        &["bench", "--network", "--timer", "gpus"],
    ] {
        let run = common::wgconv(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}
