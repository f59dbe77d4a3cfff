//! Deterministic seeds: one seed per run, printed and reproducible, from which every
//! check derives its own stream so that checks stay independent of each other and of
//! the order in which they run.

/// FNV-1a, a stable hash (std's hashers are not promised to stay the same across releases).
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A stable 64-bit hash of `bytes` (FNV-1a): the same on every platform and release, for
/// decisions that must agree across machines (which shard grades a student).
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    fnv1a(bytes, 0xcbf2_9ce4_8422_2325)
}

/// SplitMix64 step: spreads a 64-bit value into well-mixed output.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 32-byte seed of one check's generator, derived from the run seed and the check's name.
pub(crate) fn derive(run_seed: u64, task_kind: &str, check: &str) -> [u8; 32] {
    let mut state = fnv1a(
        check.as_bytes(),
        fnv1a(task_kind.as_bytes(), 0xcbf2_9ce4_8422_2325),
    ) ^ run_seed;
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix(&mut state).to_le_bytes());
    }
    out
}

/// A fresh run seed when the user gave none: time and process id, small enough to type.
pub(crate) fn fresh() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut state = nanos ^ u64::from(std::process::id());
    splitmix(&mut state) % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_per_check_and_repeat_per_run() {
        assert_eq!(
            derive(7, "tcp-upper", "echo"),
            derive(7, "tcp-upper", "echo")
        );
        assert_ne!(
            derive(7, "tcp-upper", "echo"),
            derive(7, "tcp-upper", "binary")
        );
        assert_ne!(
            derive(7, "tcp-upper", "echo"),
            derive(8, "tcp-upper", "echo")
        );
    }
}
