//! Opaque cursors for keyset pagination: the sort key of the last item of a
//! page, so the next page continues after it even while rows are inserted.

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Encodes the parts of a sort key (none may contain '\u{1f}').
pub fn encode(parts: &[&str]) -> String {
    hex::encode(parts.join("\u{1f}"))
}

/// Decodes a cursor with exactly `n` parts.
pub fn decode(cursor: &str, n: usize) -> AppResult<Vec<String>> {
    let bad = || AppError::invalid("cursor", "is not a cursor this API gave out");
    let raw = String::from_utf8(hex::decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    let parts: Vec<String> = raw.split('\u{1f}').map(str::to_string).collect();
    if parts.len() != n {
        return Err(bad());
    }
    Ok(parts)
}

/// Checks `limit` (default 50, 1 to 200).
pub fn limit(requested: Option<i64>) -> AppResult<i64> {
    let limit = requested.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let c = encode(&["KZ", "0b1f"]);
        assert_eq!(decode(&c, 2).unwrap(), ["KZ", "0b1f"]);
        assert!(decode(&c, 3).is_err());
        assert!(decode("zz", 2).is_err());
        assert!(limit(Some(0)).is_err());
        assert_eq!(limit(None).unwrap(), 50);
    }
}
