//! A small reader and writer for NumPy's `.npy` format (versions 1.0–3.0): little-endian
//! f32 or f64, C order. Anything else is refused with an error that says what was found.

mod header;

use header::Header;

/// What can be wrong with a `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("the file is empty")]
    Empty,
    #[error("not a .npy file (it does not start with \\x93NUMPY)")]
    Magic,
    #[error("a truncated .npy file: it ends inside the 6-byte magic \\x93NUMPY (after {0} bytes)")]
    TruncatedMagic(usize),
    #[error("unsupported .npy version {0}.{1} (1.0, 2.0 and 3.0 are read)")]
    Version(u8, u8),
    #[error("the file ends inside its header")]
    TruncatedHeader,
    #[error("bad .npy header: {0}")]
    Header(String),
    #[error(
        "bad .npy header: the key '{0}' appears twice (NumPy would take the last; wgconv refuses)"
    )]
    DuplicateKey(String),
    #[error(
        "bad .npy header: unknown key '{0}' (the keys are 'descr', 'fortran_order' and 'shape')"
    )]
    UnknownKey(String),
    #[error("bad .npy header: no '{0}' key")]
    MissingKey(String),
    #[error("dtype {0:?} is not supported: use little-endian float32 ('<f4') or float64 ('<f8')")]
    Dtype(String),
    #[error("Fortran-order arrays are not supported: save a C-order array (np.ascontiguousarray)")]
    FortranOrder,
    #[error(
        "the header says shape {shape:?} ({expected} bytes of data) but the file holds {got} bytes: \
         it is truncated"
    )]
    DataLength {
        shape: Vec<usize>,
        expected: u64,
        got: u64,
    },
    #[error(
        "trailing bytes: the header's shape {shape:?} needs {expected} bytes of data, the file \
         holds {got} ({} after the data)", .got - .expected
    )]
    TrailingBytes {
        shape: Vec<usize>,
        expected: u64,
        got: u64,
    },
    #[error("array of rank {got} where rank {expected} is needed")]
    Rank { expected: String, got: usize },
}

/// An array read from a `.npy` file, converted to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// True when `bytes` starts like a `.npy` file, or is a `.npy` file cut inside its magic.
pub fn is_npy(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC) || (!bytes.is_empty() && MAGIC.starts_with(bytes))
}

/// Parses a whole `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    let (header, data) = split(bytes)?;
    if header.fortran_order {
        return Err(NpyError::FortranOrder);
    }
    let overflow = || NpyError::Header(format!("shape {:?} overflows", header.shape));
    let expected = header
        .shape
        .iter()
        .try_fold(header.item, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(overflow)?;
    let got = data.len() as u64;
    let shape = header.shape;
    if got < expected {
        return Err(NpyError::DataLength {
            shape,
            expected,
            got,
        });
    }
    if got > expected {
        return Err(NpyError::TrailingBytes {
            shape,
            expected,
            got,
        });
    }
    let values = if header.item == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok(NpyArray {
        shape,
        data: values,
    })
}

/// The checked header and the bytes after it.
fn split(bytes: &[u8]) -> Result<(Header, &[u8]), NpyError> {
    if bytes.is_empty() {
        return Err(NpyError::Empty);
    }
    if !bytes.starts_with(MAGIC) {
        return Err(if is_npy(bytes) {
            NpyError::TruncatedMagic(bytes.len())
        } else {
            NpyError::Magic
        });
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(&[a, b]) => (a, b),
        _ => return Err(NpyError::TruncatedHeader),
    };
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::Version(major, minor)),
    };
    let len_end = 8 + len_bytes;
    let len_field = bytes.get(8..len_end).ok_or(NpyError::TruncatedHeader)?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let header_end = len_end
        .checked_add(header_len)
        .ok_or(NpyError::TruncatedHeader)?;
    let header_bytes = bytes
        .get(len_end..header_end)
        .ok_or(NpyError::TruncatedHeader)?;
    let text = if major == 3 {
        std::str::from_utf8(header_bytes).map_err(|_| NpyError::Header("not UTF-8".into()))?
    } else {
        if !header_bytes.is_ascii() {
            return Err(NpyError::Header(
                "not ASCII (version 1/2 headers are latin-1 text)".into(),
            ));
        }
        std::str::from_utf8(header_bytes).map_err(|_| NpyError::Header("not ASCII".into()))?
    };
    let header = Header::parse(text, major < 3)?;
    Ok((header, &bytes[header_end..]))
}

/// Encodes an f32 array of `shape` as a version 1.0 `.npy` file.
pub fn encode_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trip_f32() {
        let data = [1.0f32, -2.5, 3.25, 0.0, 5.0, 6.0];
        let bytes = encode_f32(&[2, 3], &data);
        assert_eq!(
            (bytes.len() - data.len() * 4) % 64,
            0,
            "header is padded to 64 bytes"
        );
        let a = parse(&bytes).expect("parse");
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, data.to_vec());
    }

    #[test]
    fn reads_f64_as_f32() {
        let data: Vec<u8> = [0.5f64, -1.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse(&file(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
            &data,
        ))
        .expect("parse");
        assert_eq!(a.data, vec![0.5, -1.0]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let four = [0u8; 16];
        let f = |descr: &str, fortran: &str, shape: &str, data: &[u8]| {
            parse(&file(
                &format!(
                    "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n"
                ),
                data,
            ))
        };
        assert_eq!(
            f(">f4", "False", "(4,)", &four),
            Err(NpyError::Dtype(">f4".into()))
        );
        assert_eq!(
            f("<i4", "False", "(4,)", &four),
            Err(NpyError::Dtype("<i4".into()))
        );
        assert_eq!(
            f("<f4", "True", "(2, 2)", &four),
            Err(NpyError::FortranOrder)
        );
        // The header lies: 5 elements claimed, 4 present (truncated), or 3 claimed (extra data).
        assert!(matches!(
            f("<f4", "False", "(5,)", &four),
            Err(NpyError::DataLength {
                expected: 20,
                got: 16,
                ..
            })
        ));
        assert!(matches!(
            f("<f4", "False", "(3,)", &four),
            Err(NpyError::TrailingBytes {
                expected: 12,
                got: 16,
                ..
            })
        ));
        assert_eq!(parse(b"PK\x03\x04"), Err(NpyError::Magic));
        assert_eq!(parse(b""), Err(NpyError::Empty));
        for cut in 1..6 {
            assert_eq!(parse(&MAGIC[..cut]), Err(NpyError::TruncatedMagic(cut)));
        }
        let mut minor = encode_f32(&[1], &[1.0]);
        minor[7] = 1;
        assert_eq!(parse(&minor), Err(NpyError::Version(1, 1)));
        assert_eq!(
            parse(b"\x93NUMPY\x01\x00\xff"),
            Err(NpyError::TruncatedHeader)
        );
        let mut cut = encode_f32(&[2], &[1.0, 2.0]);
        cut.truncate(30);
        assert_eq!(parse(&cut), Err(NpyError::TruncatedHeader));
        assert!(matches!(
            f("<f4", "False", "(a, 2)", &four),
            Err(NpyError::Header(_))
        ));
    }
}
