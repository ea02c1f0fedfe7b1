//! Bad and odd input files given to every subcommand that reads one (forward, step, train,
//! demo): `.npy` files cut at many offsets or whose header lies, truncated or corrupt images,
//! files that are neither, empty files, directories, missing files, and flags that do not apply.
//! Each case asserts the exit code, a message naming the problem, no panic, and the directory
//! unchanged, byte for byte. The refusals all come before a GPU device is opened.

mod common;
#[path = "bad_files/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};

use common::wgconv;
use fixture::fixture;

/// Every file under `dir` (and every folder), with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
            out.push((p, None));
        } else {
            let bytes = std::fs::read(&p).expect("read");
            out.push((p, Some(bytes)));
        }
    }
    out.sort();
    out
}

/// Runs `args` in `dir`: exit `code`, each of `needles` in stderr when refused
/// (case-insensitive), no panic, nothing on disk changed.
fn expect(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let before = snapshot(dir);
    let r = wgconv(dir, args);
    let all = format!("{args:?}:\n{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, code, "{all}");
    assert!(!r.stderr.contains("panicked"), "{all}");
    assert!(!r.stderr.contains("RUST_BACKTRACE"), "{all}");
    if code == 2 {
        let err = r.stderr.to_lowercase();
        for needle in needles {
            assert!(
                err.contains(&needle.to_lowercase()),
                "wants {needle:?}: {all}"
            );
        }
        assert!(
            !r.stdout.contains("adapter:"),
            "opened a device first: {all}"
        );
    }
    assert!(snapshot(dir) == before, "the directory changed: {all}");
}

fn forward<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["forward"];
    v.extend_from_slice(extra);
    v
}

#[test]
fn npy_files_cut_anywhere_are_refused_as_truncated() {
    let dir = fixture();
    let d = dir.path();
    for (file, needle) in [
        (
            "cut1.npy",
            "truncated .npy file: it ends inside the 6-byte magic",
        ),
        ("cut3.npy", "inside the 6-byte magic"),
        ("cut5.npy", "inside the 6-byte magic"),
        ("cut7.npy", "ends inside its header"),
        ("cut9.npy", "ends inside its header"),
        ("cut40.npy", "ends inside its header"),
        ("cut127.npy", "ends inside its header"),
        ("cut130.npy", "holds 2 bytes: it is truncated"),
        ("cut271.npy", "holds 143 bytes: it is truncated"),
    ] {
        let named = format!("{file}: ");
        expect(
            d,
            &forward(&["--input", file]),
            2,
            &[named.as_str(), needle],
        );
    }
    let w = ["--input", "x.npy", "--weight", "cut3.npy"];
    expect(d, &forward(&w), 2, &["cut3.npy: a truncated .npy"]);
    let b = ["--input", "x.npy", "--bias", "cut9.npy"];
    expect(
        d,
        &forward(&b),
        2,
        &["cut9.npy: the file ends inside its header"],
    );
}

#[test]
fn npy_headers_that_lie_or_are_not_numpys_are_refused() {
    let dir = fixture();
    let d = dir.path();
    for (file, needle) in [
        (
            "long.npy",
            "the header says shape [7, 7] (196 bytes of data)",
        ),
        (
            "short.npy",
            "trailing bytes: the header's shape [5, 5] needs 100 bytes",
        ),
        (
            "trailing.npy",
            "needs 144 bytes of data, the file holds 147 (3 after the data)",
        ),
        ("neg.npy", "negative dimension"),
        (
            "huge.npy",
            "shape [100000, 100000] (40000000000 bytes of data)",
        ),
        ("overflow.npy", "overflows"),
        ("past64.npy", "past 2^64"),
        ("notuple.npy", "'shape' is the integer 36, not a tuple"),
        ("dupshape.npy", "the key 'shape' appears twice"),
        ("dupdescr.npy", "the key 'descr' appears twice"),
        ("dupfortran.npy", "the key 'fortran_order' appears twice"),
        ("unknown.npy", "unknown key 'x'"),
        ("nokey.npy", "no 'shape' key"),
        ("notdict.npy", "expected '{'"),
        ("int32.npy", "dtype \"<i4\" is not supported"),
        ("half.npy", "dtype \"<f2\""),
        ("bigend.npy", "dtype \">f4\""),
        ("fortran.npy", "Fortran-order"),
        ("v11.npy", "unsupported .npy version 1.1"),
    ] {
        let named = format!("{file}: ");
        expect(
            d,
            &forward(&["--input", file]),
            2,
            &[named.as_str(), needle],
        );
    }
}

#[test]
fn npy_spellings_numpy_reads_are_accepted() {
    let dir = fixture();
    let d = dir.path();
    for file in ["eqf4.npy", "float32.npy", "v2f8.npy"] {
        expect(d, &forward(&["--input", file]), 0, &[]);
    }
}

#[test]
fn images_that_are_cut_corrupt_or_not_images_are_refused() {
    let dir = fixture();
    let d = dir.path();
    for (file, needle) in [
        ("half.png", "half.png: the PNG ends before its IEND chunk"),
        (
            "noiend.png",
            "noiend.png: the PNG ends before its IEND chunk",
        ),
        ("header.png", "header.png: the PNG ends before"),
        ("corrupt.png", "corrupt.png: cannot read the image"),
        (
            "half.jpg",
            "half.jpg: the JPEG ends before its end-of-image marker",
        ),
        ("noeoi.jpg", "noeoi.jpg: the JPEG ends before"),
        ("half.gif", "half.gif: the GIF ends before its trailer"),
        ("text.png", "text.png: cannot read the image"),
        ("empty.png", "empty.png: the file is empty"),
        ("folder.npy", "folder.npy: is a directory"),
        ("missing.png", "missing.png: no such file"),
    ] {
        expect(d, &forward(&["--input", file]), 2, &[needle]);
    }
    // Data after a JPEG's end-of-image marker (a motion photo's video, say) is not a cut.
    expect(d, &forward(&["--input", "tail.jpg"]), 0, &[]);
    expect(
        d,
        &["demo", "--input", "half.jpg"],
        2,
        &["half.jpg: the JPEG ends"],
    );
    expect(
        d,
        &["train", "--input", "noiend.png"],
        2,
        &["noiend.png: the PNG"],
    );
}

#[test]
fn weights_and_biases_that_are_not_npy_files_are_refused() {
    let dir = fixture();
    let d = dir.path();
    for (flag, file, needle) in [
        ("--weight", "empty.npy", "empty.npy: the file is empty"),
        ("--weight", "folder.npy", "folder.npy: is a directory"),
        ("--weight", "pic.png", "pic.png: not a .npy file"),
        ("--weight", "dupshape.npy", "appears twice"),
        ("--bias", "trailing.npy", "trailing.npy: trailing bytes"),
        ("--bias", "missing.npy", "missing.npy: no such file"),
    ] {
        expect(d, &forward(&["--input", "x.npy", flag, file]), 2, &[needle]);
    }
}

#[test]
fn step_refuses_each_bad_file_it_reads() {
    let dir = fixture();
    let d = dir.path();
    std::fs::write(d.join("w2.npy"), b"keep").expect("write");
    let files = ["x.npy", "w.npy", "b.npy", "t.npy"];
    let flags = ["--input", "--weight", "--bias", "--target"];
    for (i, bad, needle) in [
        (0, "cut5.npy", "cut5.npy: a truncated .npy file"),
        (0, "half.jpg", "half.jpg: the JPEG ends"),
        (1, "fortran.npy", "fortran.npy: Fortran-order"),
        (1, "unknown.npy", "unknown key 'x'"),
        (2, "dupdescr.npy", "the key 'descr' appears twice"),
        (2, "empty.npy", "empty.npy: the file is empty"),
        (3, "cut130.npy", "cut130.npy: the header says shape [6, 6]"),
        (3, "folder.npy", "folder.npy: is a directory"),
        (3, "trailing.npy", "trailing bytes"),
    ] {
        let mut args = vec!["step", "--lr", "0.1", "--out-weight", "w2.npy"];
        args.extend(["--out-bias", "b2.npy"]);
        for (j, flag) in flags.iter().enumerate() {
            args.extend([*flag, if i == j { bad } else { files[j] }]);
        }
        expect(d, &args, 2, &[needle]);
    }
}

#[test]
fn flags_that_do_not_apply_are_errors() {
    let dir = fixture();
    let d = dir.path();
    let npy_rgb = forward(&["--input", "x.npy", "--rgb"]);
    expect(
        d,
        &npy_rgb,
        2,
        &["--rgb applies to an image input only, and x.npy is a .npy"],
    );
    let npy_resize = forward(&["--input", "x.npy", "--resize", "4x4"]);
    expect(
        d,
        &npy_resize,
        2,
        &["--resize applies to an image input only"],
    );
    let both = forward(&["--input", "x.npy", "--rgb", "--resize", "4x4"]);
    expect(d, &both, 2, &["--rgb and --resize apply"]);
    let ks = forward(&[
        "--input",
        "x.npy",
        "--weight",
        "w.npy",
        "--kernel-size",
        "3",
    ]);
    expect(
        d,
        &ks,
        2,
        &["--kernel-size applies to --filters random:K only, not to --weight"],
    );
    let seed = forward(&["--input", "x.npy", "--seed", "4"]);
    expect(
        d,
        &seed,
        2,
        &["--seed applies to --filters random:K only, not to the seed filters"],
    );
    let train = ["train", "--builtin", "--batch", "2"];
    expect(
        d,
        &train,
        2,
        &["--batch 2 with --builtin: the built-in image is one image"],
    );
    // An explicit --batch 1 says what --builtin does: it passes (the bad --kernel stops it).
    let one = ["train", "--builtin", "--batch", "1", "--kernel", "bogus"];
    expect(d, &one, 2, &["--kernel \"bogus\""]);
    let crops = ["train", "--input", "x2.npy"];
    expect(
        d,
        &crops,
        2,
        &["crops need one grayscale image of at least 24×24 (got 2 image(s)"],
    );
    let bench = ["bench", "--kernel", "fused", "--pass", "fwd"];
    let fused = "--kernel fused with --pass fwd: the fused loop is a whole";
    expect(d, &bench, 2, &[fused]);
    expect(
        d,
        &["demo", "--input", "x.npy"],
        2,
        &["the demo needs one 24×24"],
    );
    expect(
        d,
        &["demo", "--input", "cut7.npy"],
        2,
        &["cut7.npy: the file ends"],
    );
}
