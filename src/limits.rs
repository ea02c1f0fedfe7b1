//! Host memory: what a count implies in bytes is checked against what the machine has before
//! anything is allocated, so that a huge count is an error instead of an allocation abort.

// `Bytes` lives with the error messages that print it; its path here stays.
pub use crate::error::Bytes;
use crate::error::{Error, Result};

/// The host memory assumed where `/proc/meminfo` gives no `MemAvailable` (not Linux): 16 GiB.
pub const FALLBACK_HOST_BYTES: u64 = 16 << 30;

/// Bytes of host memory a run may allocate, and where the number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMemory {
    pub bytes: u64,
    pub origin: &'static str,
}

/// `MemAvailable` from `/proc/meminfo` where there is one, else [`FALLBACK_HOST_BYTES`].
pub fn host_memory() -> HostMemory {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_available(&text));
    match available {
        Some(bytes) => HostMemory {
            bytes,
            origin: "MemAvailable in /proc/meminfo",
        },
        None => HostMemory {
            bytes: FALLBACK_HOST_BYTES,
            origin: "the 16 GiB assumed where /proc/meminfo is missing",
        },
    }
}

/// The `MemAvailable:  123 kB` line of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kib.checked_mul(1024)
}

/// `count` items of `each` bytes; None past u64.
pub fn bytes_of(count: u64, each: u64) -> Option<u64> {
    count.checked_mul(each)
}

/// Refuses `what` when it needs more host memory than is available. `needed` is None when the
/// size does not even fit in 64 bits.
pub fn ensure_host_fits(what: impl FnOnce() -> String, needed: Option<u64>) -> Result<()> {
    let host = host_memory();
    match needed {
        Some(n) if n <= host.bytes => Ok(()),
        _ => Err(Error::HostMemory {
            what: what(),
            needed: needed.unwrap_or(u64::MAX),
            available: host.bytes,
            origin: host.origin,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available_in_bytes() {
        let text = "MemTotal:       16000000 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(mem_available(text), Some(2048 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
    }

    #[test]
    fn refuses_what_does_not_fit_and_says_how_much() {
        let e = ensure_host_fits(|| "the log".into(), None).unwrap_err();
        assert!(e.to_string().contains("more than 2⁶⁴ bytes"), "{e}");
        let e = ensure_host_fits(|| "the log".into(), Some(u64::MAX - 1)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the log needs 18446744073709551614 bytes (16.0 EiB) of host memory"),
            "{e}"
        );
        assert!(ensure_host_fits(|| "a little".into(), Some(16)).is_ok());
        assert_eq!(
            Bytes(4_000_000_000_000).to_string(),
            "4000000000000 bytes (3.6 TiB)"
        );
        assert_eq!(Bytes(512).to_string(), "512 bytes");
    }
}
