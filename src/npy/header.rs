//! The `.npy` header: a Python dict literal, read no more leniently than NumPy's reader
//! (`ast.literal_eval`, then exactly the keys `descr`, `fortran_order` and `shape`). Where NumPy
//! would silently resolve something (a key given twice: Python keeps the last), it is refused.

use super::NpyError;

/// What a header says, checked.
#[derive(Debug)]
pub(super) struct Header {
    /// Bytes per element: 4 (f32) or 8 (f64).
    pub item: u64,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Punct(u8),
    Str(String),
    Word(String),
}

#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    /// An integer literal: its sign and magnitude (None when it overflows u64).
    Int(bool, Option<u64>),
    Seq {
        tuple: bool,
        items: Vec<Value>,
    },
    /// Any other literal (None, a float, a dict), as written.
    Other(String),
}

impl Header {
    /// Parses the header text; `python2` allows the `L` suffix of Python 2 longs (versions 1
    /// and 2, as NumPy does).
    pub fn parse(text: &str, python2: bool) -> Result<Self, NpyError> {
        let bad = |what: String| {
            let shown: String = text.trim().chars().take(120).collect();
            NpyError::Header(format!("{what} in {shown:?}"))
        };
        let mut p = Parser {
            tokens: tokenize(text).map_err(bad)?,
            at: 0,
            python2,
        };
        let entries = p.dict().map_err(bad)?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        for (key, value) in entries {
            let slot = match key.as_str() {
                "descr" => &mut descr,
                "fortran_order" => &mut fortran,
                "shape" => &mut shape,
                _ => return Err(NpyError::UnknownKey(key)),
            };
            if slot.replace(value).is_some() {
                return Err(NpyError::DuplicateKey(key));
            }
        }
        let missing = |key: &str| NpyError::MissingKey(key.to_string());
        let item = match descr.ok_or_else(|| missing("descr"))? {
            Value::Str(s) => item_size(&s).ok_or(NpyError::Dtype(s))?,
            Value::Seq { .. } => return Err(NpyError::Dtype("a structured dtype".into())),
            other => return Err(NpyError::Dtype(describe(&other))),
        };
        let fortran_order = match fortran.ok_or_else(|| missing("fortran_order"))? {
            Value::Bool(b) => b,
            other => {
                return Err(bad(format!(
                    "'fortran_order' is {}, not True or False",
                    describe(&other)
                )))
            }
        };
        let shape = dims(shape.ok_or_else(|| missing("shape"))?).map_err(bad)?;
        Ok(Header {
            item,
            fortran_order,
            shape,
        })
    }
}

/// The element size for the dtype spellings NumPy reads as little-endian float32 or float64:
/// `<f4`, `<f`, `<f8`, `<d`, and on a little-endian host the native ones (`=f4`, `|f4`, `f4`,
/// `f`, `float32`, `single`; `=f8`, `|f8`, `f8`, `d`, `float64`, `double`, `float`).
fn item_size(descr: &str) -> Option<u64> {
    let native_le = cfg!(target_endian = "little");
    let code = |c: &str| match c {
        "f4" | "f" => Some(4),
        "f8" | "d" => Some(8),
        _ => None,
    };
    match descr.as_bytes().first()? {
        b'<' => code(&descr[1..]),
        b'=' | b'|' => code(&descr[1..]).filter(|_| native_le),
        b'>' => None,
        _ => match descr {
            "float32" | "single" => Some(4),
            "float64" | "double" | "float" => Some(8),
            other => code(other),
        }
        .filter(|_| native_le),
    }
}

/// The shape: a tuple of non-negative integers.
fn dims(value: Value) -> Result<Vec<usize>, String> {
    let Value::Seq { tuple: true, items } = value else {
        return Err(format!("'shape' is {}, not a tuple", describe(&value)));
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Int(false, Some(d)) => usize::try_from(d)
                .map_err(|_| format!("'shape' holds {d}, too large for this machine")),
            Value::Int(false, None) => Err("'shape' holds an integer past 2^64".into()),
            Value::Int(true, _) => Err("'shape' holds a negative dimension".into()),
            other => Err(format!(
                "'shape' holds {}, not an integer",
                describe(&other)
            )),
        })
        .collect()
}

fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("the string {s:?}"),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Int(neg, d) => match d {
            Some(d) => format!("the integer {}{d}", if *neg { "-" } else { "" }),
            None => "a huge integer".into(),
        },
        Value::Seq { tuple: true, .. } => "a tuple".into(),
        Value::Seq { tuple: false, .. } => "a list".into(),
        Value::Other(s) => s.clone(),
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.')
}

/// Python tokens: punctuation, plain string literals (no escapes, no prefixes) and words
/// (names and numbers).
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b"{}()[]:,".contains(&c) {
            out.push(Token::Punct(c));
            i += 1;
        } else if c == b'\'' || c == b'"' {
            let len = b[i + 1..]
                .iter()
                .position(|&x| x == c || x == b'\\' || x == b'\n')
                .filter(|&n| b[i + 1 + n] == c)
                .ok_or("a string that is unterminated or holds an escape")?;
            out.push(Token::Str(text[i + 1..i + 1 + len].to_string()));
            i += len + 2;
        } else if is_word(c) {
            let len = b[i..].iter().take_while(|&&x| is_word(x)).count();
            out.push(Token::Word(text[i..i + len].to_string()));
            i += len;
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected character {ch:?}"));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    python2: bool,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// Consumes `p` when it comes next.
    fn eat(&mut self, p: u8) -> bool {
        let hit = self.tokens.get(self.at) == Some(&Token::Punct(p));
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, p: u8) -> Result<(), String> {
        if self.eat(p) {
            return Ok(());
        }
        let found = match self.tokens.get(self.at) {
            Some(Token::Punct(q)) => format!("'{}'", *q as char),
            Some(Token::Str(s)) => format!("the string {s:?}"),
            Some(Token::Word(w)) => w.clone(),
            None => "the end".into(),
        };
        Err(format!("expected '{}', found {found}", p as char))
    }

    /// `{key: value, ...}` and nothing after it; the entries in order, duplicates kept.
    fn dict(&mut self) -> Result<Vec<(String, Value)>, String> {
        self.expect(b'{')?;
        let mut entries = Vec::new();
        while !self.eat(b'}') {
            let key = match self.next() {
                Some(Token::Str(k)) => k,
                _ => return Err("a key that is not a string".into()),
            };
            self.expect(b':')?;
            entries.push((key, self.value(0)?));
            if !self.eat(b',') {
                self.expect(b'}')?;
                break;
            }
        }
        if self.at < self.tokens.len() {
            return Err("something after the dict".into());
        }
        Ok(entries)
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Value::Str(s)),
            Some(Token::Word(w)) => Ok(self.word(w)),
            Some(Token::Punct(open @ (b'(' | b'['))) if depth < 4 => {
                let close = if open == b'(' { b')' } else { b']' };
                let (mut items, mut comma) = (Vec::new(), false);
                while !self.eat(close) {
                    items.push(self.value(depth + 1)?);
                    comma = self.eat(b',');
                    if !comma {
                        self.expect(close)?;
                        break;
                    }
                }
                // `(x)` is x; `(x,)` and `()` are tuples.
                if open == b'(' && items.len() == 1 && !comma {
                    return items.pop().ok_or_else(|| "an empty group".into());
                }
                Ok(Value::Seq {
                    tuple: open == b'(',
                    items,
                })
            }
            Some(Token::Punct(b'{')) => Err("a nested dict".into()),
            Some(Token::Punct(p)) => Err(format!("unexpected '{}'", p as char)),
            None => Err("a missing value".into()),
        }
    }

    /// True, False, a decimal integer (with an `L` suffix in Python 2 headers), or other.
    fn word(&self, w: String) -> Value {
        match w.as_str() {
            "True" => return Value::Bool(true),
            "False" => return Value::Bool(false),
            _ => {}
        }
        let (neg, digits) = match w.as_bytes().first() {
            Some(b'-') => (true, &w[1..]),
            Some(b'+') => (false, &w[1..]),
            _ => (false, &w[..]),
        };
        let digits = match digits.strip_suffix(['L', 'l']) {
            Some(d) if self.python2 => d,
            _ => digits,
        };
        let decimal = digits.bytes().all(|c| c.is_ascii_digit());
        // Python refuses leading zeros ("04").
        if digits.is_empty() || !decimal || (digits.len() > 1 && digits.starts_with('0')) {
            return Value::Other(w);
        }
        let d = digits.parse::<u64>().ok();
        Value::Int(neg && d != Some(0), d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, NpyError> {
        Header::parse(text, true)
    }

    fn with(descr: &str, shape: &str) -> String {
        format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}\n")
    }

    #[test]
    fn reads_what_numpy_writes_and_other_literal_spellings() {
        let h = header(&with("'<f4'", "(2, 3)")).expect("numpy's own");
        assert_eq!((h.item, h.fortran_order, h.shape), (4, false, vec![2, 3]));
        let h = header("{\"shape\":(7,),\"fortran_order\":True,\"descr\":\"<f8\"}").expect("dq");
        assert_eq!((h.item, h.fortran_order, h.shape), (8, true, vec![7]));
        let scalar = header(&with("'<f4'", "()")).expect("scalar");
        assert_eq!(scalar.shape, Vec::<usize>::new());
        assert_eq!(
            header(&with("'<f4'", "(3L, 0)")).expect("py2").shape,
            [3, 0]
        );
        assert!(Header::parse(&with("'<f4'", "(3L,)"), false).is_err());
        assert_eq!(
            header(&with("'<f4'", "(-0, +2)")).expect("signs").shape,
            [0, 2]
        );
    }

    #[test]
    fn dtype_spellings() {
        let native = cfg!(target_endian = "little");
        for (descr, item) in [
            ("<f4", 4),
            ("<f", 4),
            ("=f4", 4),
            ("|f4", 4),
            ("f4", 4),
            ("f", 4),
            ("float32", 4),
            ("single", 4),
            ("<f8", 8),
            ("<d", 8),
            ("=f8", 8),
            ("f8", 8),
            ("float64", 8),
            ("double", 8),
            ("float", 8),
        ] {
            let want = (native || descr.starts_with('<')).then_some(item);
            assert_eq!(item_size(descr), want, "{descr}");
        }
        for descr in [
            ">f4", ">f8", "<i4", "<f2", "e", "<float32", "float_", "", "<", "F4",
        ] {
            assert_eq!(item_size(descr), None, "{descr}");
        }
    }

    #[test]
    fn refuses_duplicate_unknown_and_missing_keys() {
        let dup = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'shape': (2, 2)}";
        assert_eq!(
            header(dup).err(),
            Some(NpyError::DuplicateKey("shape".into()))
        );
        let extra = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}";
        assert_eq!(header(extra).err(), Some(NpyError::UnknownKey("x".into())));
        let missing = "{'descr': '<f4', 'shape': (4,)}";
        assert_eq!(
            header(missing).err(),
            Some(NpyError::MissingKey("fortran_order".into()))
        );
    }

    #[test]
    fn refuses_what_numpy_refuses() {
        for (text, needle) in [
            (with("'<f4'", "(4)"), "not a tuple"),
            (with("'<f4'", "[4]"), "not a tuple"),
            (with("'<f4'", "(-4,)"), "negative"),
            (with("'<f4'", "(04,)"), "not an integer"),
            (with("'<f4'", "(1.5,)"), "not an integer"),
            (with("'<f4'", "(99999999999999999999999,)"), "2^64"),
            (with("'<f4'", "(4 5)"), "expected ')'"),
            (with("'<' 'f4'", "(4,)"), "expected"),
            (with("'<f4'", "(4,)") + "x", "after the dict"),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,)}".into(),
                "fortran_order",
            ),
            ("{'descr': '<\\f4'}".into(), "escape"),
            ("['descr']".into(), "expected '{'"),
            ("{'descr': '<f4'\u{e9}}".into(), "unexpected character"),
        ] {
            match header(&text) {
                Err(NpyError::Header(m)) => assert!(m.contains(needle), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let list = with("[('a', '<f4')]", "(4,)");
        assert!(matches!(header(&list), Err(NpyError::Dtype(_))));
        let deep = with("'<f4'", &"(".repeat(10_000));
        assert!(header(&deep).is_err());
    }
}
