//! A seeded mutation fuzz of `npy::parse`: no input panics, and every accepted input is
//! consistent (as many values as the shape's product, no more data than the file held) and
//! round-trips through `encode_f32` bit for bit.
//!
//! The suite runs 100 000 executions (a tenth of a second in release). A longer run, e.g. 10⁸ with
//! another seed:
//! `WGCONV_NPY_FUZZ=100000000 WGCONV_NPY_FUZZ_SEED=7 cargo test --release --test npy_fuzz -- --nocapture`

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::npy;

/// Fragments a mutation splices in: keys, literals, delimiters and odd bytes.
const TOKENS: &[&[u8]] = &[
    b"'shape'",
    b"'descr'",
    b"'fortran_order'",
    b"'x'",
    b"(",
    b")",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b"\"",
    b"\\",
    b" ",
    b"\n",
    b"True",
    b"False",
    b"None",
    b"'<f4'",
    b"'<f8'",
    b"'=f4'",
    b"'float32'",
    b"'>f4'",
    b"-1",
    b"0",
    b"04",
    b"1L",
    b"9999999999",
    b"18446744073709551616",
    b"1.5",
    b"\xc3\xa9",
    b"\x93NUMPY",
    b"\x00",
    b"\xff",
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A file of `version` with header `text` (not padded) and `data`.
fn file(version: u8, text: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let f64s: Vec<u8> = [0.5f64, -1.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    vec![
        npy::encode_f32(&[], &[1.5]),
        npy::encode_f32(&[3], &[1.0, -2.0, f32::NAN]),
        npy::encode_f32(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        npy::encode_f32(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]),
        npy::encode_f32(&[1, 1, 2, 1], &[7.0, 8.0]),
        npy::encode_f32(&[0, 5], &[]),
        file(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n",
            &f64s,
        ),
        file(
            2,
            "{\"descr\":\"f8\",\"fortran_order\":False,\"shape\":(3L,)}",
            &f64s,
        ),
        file(
            3,
            "{'shape': (1, 3), 'descr': 'float64', 'fortran_order': False}",
            &f64s,
        ),
    ]
}

fn mutate(rng: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=b.len());
        match rng.random_range(0..8) {
            0 if at < b.len() => b[at] = rng.random(),
            1 if at < b.len() => b[at] ^= 1 << rng.random_range(0..8),
            2 | 3 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
            4 => {
                let end = (at + rng.random_range(1..8)).min(b.len());
                b.drain(at..end);
            }
            5 => b.truncate(at),
            6 => b.extend((0..rng.random_range(1..16)).map(|_| rng.random::<u8>())),
            _ if b.len() >= 10 => {
                // The header length field.
                let v: u16 = rng.random_range(0..300);
                b[8..10].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
    }
    b
}

/// What an accepted input must satisfy.
fn check_accepted(input: &[u8], a: &npy::NpyArray) {
    let count = a.shape.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
    assert_eq!(count, Some(a.data.len()), "{input:02x?}");
    assert!(a.data.len() * 4 <= input.len(), "{input:02x?}");
    let again = npy::parse(&npy::encode_f32(&a.shape, &a.data)).expect("re-encoded");
    assert_eq!(again.shape, a.shape);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&again.data), bits(&a.data));
}

#[test]
fn mutated_npy_files_never_panic_and_accepted_ones_round_trip() {
    let runs = env_u64("WGCONV_NPY_FUZZ", 100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(env_u64("WGCONV_NPY_FUZZ_SEED", 0));
    let mut pool = seeds();
    for s in &pool {
        check_accepted(s, &npy::parse(s).expect("every seed file is valid"));
    }
    let base = pool.len();
    let (mut accepted, started) = (0u64, Instant::now());
    for _ in 0..runs {
        let parent = &pool[rng.random_range(0..pool.len())];
        let input = mutate(&mut rng, parent);
        let result = std::panic::catch_unwind(|| npy::parse(&input))
            .unwrap_or_else(|_| panic!("npy::parse panicked on {input:02x?}"));
        if let Ok(a) = result {
            check_accepted(&input, &a);
            accepted += 1;
            // Accepted mutants breed too; the pool stays small.
            if pool.len() < base + 64 {
                pool.push(input);
            } else {
                let i = rng.random_range(base..pool.len());
                pool[i] = input;
            }
        }
    }
    eprintln!(
        "npy fuzz: {runs} executions, {accepted} accepted, {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
