//! A dense, row-major f32 tensor of rank 4 (NCHW for activations, KCRS for weights).

/// Row-major f32 data with its four dims. Rank 1 (bias) is stored as (K, 1, 1, 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor4 {
    pub dims: [usize; 4],
    pub data: Vec<f32>,
}

/// A tensor whose data length does not match its dims, or holds a value that is not finite.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorError {
    #[error("{name}: dims {dims:?} need {expected} values, got {got}")]
    Length {
        name: String,
        dims: [usize; 4],
        expected: usize,
        got: usize,
    },
    #[error("{name}: element {index:?} is {value}, not a finite number")]
    NonFinite {
        name: String,
        index: [usize; 4],
        value: f32,
    },
}

impl Tensor4 {
    /// Wraps `data`, checking that its length is the product of `dims`.
    pub fn new(name: &str, dims: [usize; 4], data: Vec<f32>) -> Result<Self, TensorError> {
        let expected = dims.iter().product();
        if data.len() != expected {
            return Err(TensorError::Length {
                name: name.to_string(),
                dims,
                expected,
                got: data.len(),
            });
        }
        Ok(Tensor4 { dims, data })
    }

    /// All zeros.
    pub fn zeros(dims: [usize; 4]) -> Self {
        Tensor4 {
            dims,
            data: vec![0.0; dims.iter().product()],
        }
    }

    /// Flat index of (a, b, c, d).
    #[inline]
    pub fn offset(&self, a: usize, b: usize, c: usize, d: usize) -> usize {
        ((a * self.dims[1] + b) * self.dims[2] + c) * self.dims[3] + d
    }

    /// The element at (a, b, c, d).
    #[inline]
    pub fn at(&self, a: usize, b: usize, c: usize, d: usize) -> f32 {
        self.data[self.offset(a, b, c, d)]
    }

    /// The 4-d index of flat offset `i`.
    pub fn index_of(&self, i: usize) -> [usize; 4] {
        unflatten(self.dims, i)
    }

    /// Errors when the data's length is not the product of the dims (the fields are public, so
    /// a tensor can be built without [`Tensor4::new`]'s check).
    pub fn ensure_len(&self, name: &str) -> Result<(), TensorError> {
        let expected = self.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected == Some(self.data.len()) {
            return Ok(());
        }
        Err(TensorError::Length {
            name: name.to_string(),
            dims: self.dims,
            expected: expected.unwrap_or(usize::MAX),
            got: self.data.len(),
        })
    }

    /// Errors on the first NaN or infinity, naming the tensor and the element.
    pub fn ensure_finite(&self, name: &str) -> Result<(), TensorError> {
        first_non_finite(name, &self.data, |i| self.index_of(i))
    }
}

/// [`Tensor4::ensure_finite`] for a vector (a bias): the index is (i, 0, 0, 0).
pub fn ensure_finite_slice(name: &str, v: &[f32]) -> Result<(), TensorError> {
    first_non_finite(name, v, |i| [i, 0, 0, 0])
}

fn first_non_finite(
    name: &str,
    v: &[f32],
    index: impl Fn(usize) -> [usize; 4],
) -> Result<(), TensorError> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(TensorError::NonFinite {
            name: name.to_string(),
            index: index(i),
            value: v[i],
        }),
    }
}

/// The 4-d index of flat offset `i` in a row-major array of `dims`.
pub fn unflatten(dims: [usize; 4], i: usize) -> [usize; 4] {
    let d = i % dims[3];
    let c = (i / dims[3]) % dims[2];
    let b = (i / (dims[3] * dims[2])) % dims[1];
    let a = i / (dims[3] * dims[2] * dims[1]);
    [a, b, c, d]
}
