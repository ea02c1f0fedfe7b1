//! The output contract under bad output paths: every output is checked before any GPU work, a
//! failed run changes nothing on disk, and outputs get the usual permissions. Most cases fail
//! before a device is opened; a few succeed and run on the GPU (a software adapter is fine).
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::tree::{
    assert_no_panic, mkdir, mkfifo, mode, refused, snapshot, symlink, wgconv_umask,
};
use common::write_npy;

/// The files every case starts from: inputs for forward and step, a PNG, outputs that exist
/// (whose bytes must survive), a directory, a regular file, a FIFO.
fn fixtures(d: &Path) {
    write_npy(&d.join("x.npy"), &[1, 1, 6, 6], &[0.5; 36]);
    write_npy(&d.join("w.npy"), &[1, 1, 3, 3], &[0.1; 9]);
    write_npy(&d.join("b.npy"), &[1], &[0.0]);
    write_npy(&d.join("t.npy"), &[1, 1, 4, 4], &[0.2; 16]);
    let img = image::GrayImage::from_fn(30, 30, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
    img.save(d.join("pic.png")).expect("png");
    std::fs::write(d.join("y.npy"), b"old y").expect("write");
    std::fs::write(d.join("w2.npy"), b"old w2").expect("write");
    mkdir(&d.join("dir"));
    std::fs::write(d.join("dir/keep.txt"), b"keep").expect("write");
    std::fs::write(d.join("file"), b"a regular file").expect("write");
    mkfifo(&d.join("fifo"));
}

const FORWARD: &str = "forward --input x.npy --weight w.npy";
const STEP: &str = "step --input x.npy --weight w.npy --bias b.npy --target t.npy --lr 0.1";

/// One setup action before a case: `mkdir P`, `fifo P`, `sock P`, `ln TARGET LINK`,
/// `hard FROM TO`, `pic P` (a copy of the PNG), `old P` (a file holding "old").
fn set_up(d: &Path, action: &str) {
    let words: Vec<&str> = action.split(' ').collect();
    match words[..] {
        ["-"] => {}
        ["mkdir", p] => mkdir(&d.join(p)),
        ["fifo", p] => mkfifo(&d.join(p)),
        ["sock", p] => {
            let listener = std::os::unix::net::UnixListener::bind(d.join(p)).expect("bind");
            std::mem::forget(listener); // the socket file stays; the test's tempdir goes
        }
        ["ln", target, link] => symlink(target, &d.join(link)),
        ["hard", from, to] => std::fs::hard_link(d.join(from), d.join(to)).expect("link"),
        ["pic", p] | ["old", p] => {
            let to = d.join(p);
            mkdir(to.parent().expect("parent"));
            match words[0] {
                "pic" => std::fs::copy(d.join("pic.png"), to).map(|_| ()),
                _ => std::fs::write(to, b"old"),
            }
            .expect("write");
        }
        _ => panic!("unknown setup {action:?}"),
    }
}

/// Runs each line of `table`, `SETUP, ... | COMMAND | NEEDLE; ...`, in a fresh directory of
/// fixtures: refused with exit 2, stderr naming each needle, nothing changed on disk. `F` and
/// `S` at the start of a command stand for a valid forward or step command line.
fn run_table(table: &str) {
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split(" | ").collect();
        let [setup, command, needles] = cols[..] else {
            panic!("bad case line {line:?}");
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        fixtures(d);
        setup.split(", ").for_each(|a| set_up(d, a));
        let command = match command.split_once(' ') {
            Some(("F", rest)) => format!("{FORWARD} {rest}"),
            Some(("S", rest)) => format!("{STEP} {rest}"),
            _ => command.to_string(),
        };
        eprintln!("case: {line}");
        let args: Vec<&str> = command.split(' ').collect();
        let needles: Vec<&str> = needles.split("; ").collect();
        refused(d, &args, &needles);
    }
}

/// The five runs the issue saw fail (exit 2) after writing or replacing files.
#[test]
fn the_issues_five_partial_writes_write_nothing() {
    run_table(
        "
        - | F --output y.npy --pre-activation dir | --pre-activation dir: is a directory
        mkdir m/filters.png | F --maps m | --maps m/filters.png: is a directory
        - | S --out-weight w2.npy --out-bias dir | --out-bias dir: is a directory
        - | S --out-weight w3.npy --out-bias b3.npy --loss-log dir | --loss-log dir: is a directory
        old run/loss.csv | train --steps 1 --out run --save dir | --save dir: is a directory
        ",
    );
}

/// Outputs that exist and are not regular files, or that name a directory.
#[test]
fn outputs_that_are_not_regular_files_are_refused() {
    run_table(
        "
        - | F --output fifo | --output fifo: is a FIFO (named pipe), not a regular file
        - | S --out-weight a.npy --out-bias c.npy --grad-input fifo | --grad-input fifo: is a FIFO
        - | bench --shapes seed --json fifo | --json fifo: is a FIFO
        sock sock | F --output sock | --output sock: is a socket, not a regular file
        - | bench --shapes seed --json dir | --json dir: is a directory
        - | F --output new/ | --output new/: names a directory
        - | F --output dir/.. | --output dir/..: names a directory
        - | F --output . | --output .: names a directory
        fifo dir/filters.png | demo --out dir | --out dir/filters.png: is a FIFO
        mkdir m/y_n0_k0.png | F --maps m --per-map | --per-map m/y_n0_k0.png: is a directory
        mkdir run/maps_after.png | train --steps 1 --out run | --out run/maps_after.png: is a dir
        ",
    );
}

/// Symlinks are written through; one that leads nowhere, or to what may not be an output, is
/// refused like its target.
#[test]
fn symlinks_to_bad_targets_are_refused() {
    run_table(
        "
        ln nowhere/y.npy dangling.npy | F --output dangling.npy | --output dangling.npy: a symlink
        ln dir link_dir | F --output link_dir | --output link_dir: is a directory
        ln fifo link_fifo | F --output link_fifo | --output link_fifo: is a FIFO
        ln nowhere gone | F --maps gone | --maps gone/feature_maps.png: gone: a symlink whose
        ",
    );
}

/// Two outputs that are one file, however spelled, and outputs that are inputs.
#[test]
fn outputs_that_collide_are_refused() {
    run_table(
        "
        - | F --output y.npy --pre-activation y.npy | --pre-activation y.npy: the same file as --output y.npy
        - | F --output ./n.npy --pre-activation n.npy | n.npy: the same file as --output ./n.npy
        - | F --output y.npy --pre-activation dir/../y.npy | dir/../y.npy: the same file as --output y.npy
        - | F --output new/a/../z.npy --pre-activation new/z.npy | the same file as --output new/a/../z.npy
        hard y.npy h.npy | F --output y.npy --pre-activation h.npy | h.npy: the same file as --output y.npy
        ln y.npy s.npy | F --output s.npy --pre-activation y.npy | y.npy: the same file as --output s.npy
        - | S --out-weight w2.npy --out-bias b2.npy --grad-weight w2.npy | --grad-weight w2.npy: the same file
        - | train --steps 1 --out run --save run/loss.png | --save run/loss.png: the same file as --out
        - | F --output x.npy | --output x.npy: this is the input --input x.npy
        - | F --pre-activation ./w.npy | --pre-activation ./w.npy: this is the input --weight w.npy
        pic m/input.png | forward --input m/input.png --maps m | --maps m/input.png: this is the input
        - | S --out-weight w.npy --out-bias b2.npy | --out-weight w.npy: this is the input --weight
        hard b.npy bh.npy | S --out-weight w2.npy --out-bias bh.npy | bh.npy: this is the input --bias b.npy
        - | S --out-weight w2.npy --out-bias b2.npy --loss-log t.npy | t.npy: this is the input --target
        pic dir/filters.png | demo --input dir/filters.png --out dir | --out dir/filters.png: this is the input
        ",
    );
}

/// A parent that is not a directory: a clear message naming it (never "File exists"), and no
/// directory made on the way.
#[test]
fn parents_that_are_files_are_refused() {
    run_table(
        "
        - | F --output file/y.npy | --output file/y.npy: file is a regular file, not a directory
        - | F --output file/a/b/y.npy | file/a/b/y.npy: file is a regular file, not a directory
        - | F --maps file | --maps file/feature_maps.png: file is a regular file, not a directory
        - | F --maps fifo | --maps fifo/feature_maps.png: fifo is a FIFO (named pipe), not a dir
        - | F --maps /dev/null | /dev/null is a character device, not a directory
        - | demo --out file | --out file/input_windows.png: file is a regular file
        - | train --steps 1 --out file | --out file/loss.csv: file is a regular file
        - | S --out-weight a.npy --out-bias c.npy --loss-log file/l.csv | --loss-log file/l.csv: file is
        - | bench --shapes seed --json file/b.json | --json file/b.json: file is a regular file
        - | F --output new/sub/y.npy --pre-activation file/z.npy | --pre-activation file/z.npy: file is
        - | train --steps 1 --out new/deep --save dir | --save dir: is a directory
        ",
    );
}

/// The empty path (clap refuses it before we see it).
#[test]
fn an_empty_output_path_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures(dir.path());
    let args: Vec<&str> = FORWARD.split(' ').chain(["--output", ""]).collect();
    refused(dir.path(), &args, &["--output"]);
}

/// A directory we may not write in is named before any work (not testable as root, who may
/// write anywhere).
#[test]
fn an_unwritable_directory_is_refused_up_front() {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        eprintln!("skipped: root may write in a read-only directory");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures(d);
    std::fs::create_dir(d.join("ro")).expect("mkdir");
    std::fs::set_permissions(d.join("ro"), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let args: Vec<&str> = FORWARD
        .split(' ')
        .chain(["--output", "ro/sub/y.npy"])
        .collect();
    refused(d, &args, &["--output ro/sub/y.npy", "cannot write in ro"]);
}

/// Success: new files (and a replaced one) are 0666 less the umask, in directories made for
/// them; no temporary is left.
#[test]
fn outputs_get_the_usual_permissions() {
    for (umask, want) in [("022", 0o644), ("027", 0o640)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        fixtures(d);
        std::fs::set_permissions(d.join("y.npy"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let args = format!("{FORWARD} --output y.npy --pre-activation new/sub/z.npy --maps m");
        let args: Vec<&str> = args.split(' ').collect();
        let r = wgconv_umask(d, umask, &args);
        assert_eq!(r.code, 0, "umask {umask}: {}{}", r.stdout, r.stderr);
        assert_no_panic(&r, umask);
        for f in [
            "y.npy",
            "new/sub/z.npy",
            "m/feature_maps.png",
            "m/input.png",
        ] {
            assert_eq!(mode(&d.join(f)), want, "umask {umask}: {f}");
        }
        assert_eq!(
            &std::fs::read(d.join("y.npy")).expect("y")[..6],
            b"\x93NUMPY"
        );
        let names: Vec<String> = snapshot(d).into_keys().collect();
        assert!(!names.iter().any(|n| n.contains(".wgconv-")), "{names:?}");
    }
}

/// Success through symlinks: the link is kept and its target replaced; a symlinked directory
/// is written into.
#[test]
fn a_symlink_output_is_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures(d);
    symlink("y.npy", &d.join("latest.npy"));
    symlink("dir", &d.join("dirlink"));
    let args = format!("{FORWARD} --output latest.npy --pre-activation dirlink/z.npy");
    let args: Vec<&str> = args.split(' ').collect();
    let r = wgconv_umask(d, "022", &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_no_panic(&r, "symlink");
    let link = std::fs::symlink_metadata(d.join("latest.npy")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let y = std::fs::read(d.join("y.npy")).expect("y");
    assert_eq!(&y[..6], b"\x93NUMPY", "the target was not written");
    assert_eq!(mode(&d.join("y.npy")), 0o644);
    assert_eq!(
        &std::fs::read(d.join("dir/z.npy")).expect("z")[..6],
        b"\x93NUMPY"
    );
    let names: Vec<String> = snapshot(d).into_keys().collect();
    assert!(!names.iter().any(|n| n.contains(".wgconv-")), "{names:?}");
}

/// The library's side: files staged in new nested directories, then the set dropped (as on any
/// error): the staged files and the directories are gone, the existing file untouched.
#[test]
fn dropped_outputs_remove_their_files_and_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures(d);
    let before = snapshot(d);
    let mut outputs = wgconv::outputs::Outputs::new();
    let (a, b) = (d.join("new/sub/deeper/a.npy"), d.join("y.npy"));
    let c = d.join("new/other/c.npy");
    for p in [&a, &b, &c] {
        outputs.declare("--test", p).expect("declare");
    }
    outputs.add(&a, b"staged a").expect("stage a");
    outputs.add(&b, b"staged b").expect("stage b");
    assert!(
        d.join("new/sub/deeper").is_dir(),
        "staging made the directories"
    );
    assert_ne!(snapshot(d), before);
    drop(outputs);
    assert_eq!(snapshot(d), before, "a dropped set left something behind");
}

/// Committing with a declared output never staged is an error, and still changes nothing.
#[test]
fn a_declared_output_never_staged_fails_the_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures(d);
    let before = snapshot(d);
    let mut outputs = wgconv::outputs::Outputs::new();
    let (a, b) = (d.join("new/a.npy"), d.join("y.npy"));
    outputs.declare("--a", &a).expect("declare");
    outputs.declare("--b", &b).expect("declare");
    outputs.add(&a, b"a").expect("stage");
    let e = outputs.commit().expect_err("b was never staged");
    assert!(e.to_string().contains("--b"), "{e}");
    assert_eq!(snapshot(d), before);
}

/// Absolute and relative spellings of one file collide.
#[test]
fn an_absolute_and_a_relative_path_to_one_file_collide() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures(d);
    let abs = d.join("y.npy").display().to_string();
    let args: Vec<&str> = FORWARD
        .split(' ')
        .chain(["--output", "y.npy", "--pre-activation", &abs])
        .collect();
    refused(
        d,
        &args,
        &["--pre-activation", "same file as --output y.npy"],
    );
}
