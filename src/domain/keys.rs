//! The shapes of natural keys, shared by the importer and the API.

/// A record key: lowercase letters, digits and dashes, not starting with a
/// dash, at most 100 characters ("kz-ru-culture-2024-2026").
pub fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 100
        && !key.starts_with('-')
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An ISO 3166-1 alpha-2 code (KZ) or an ISO 3166-2 subdivision (KZ-KUS).
pub fn is_party_code(code: &str) -> bool {
    let state = |s: &str| s.len() == 2 && s.bytes().all(|c| c.is_ascii_uppercase());
    match code.split_once('-') {
        None => state(code),
        Some((country, sub)) => {
            state(country)
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_codes() {
        for good in ["kz-mci", "kz-ru-culture-2024-2026", "a", "1993"] {
            assert!(is_key(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            "KZ-MCI",
            "kz mci",
            "kz_mci",
            "қаз",
            &"x".repeat(101),
        ] {
            assert!(!is_key(bad), "{bad}");
        }
        for good in ["KZ", "RU-SVE", "KZ-AST", "GB-1"] {
            assert!(is_party_code(good), "{good}");
        }
        for bad in ["kz", "KAZ", "KZ-", "KZ-ABCD", "K", "KZ-ast"] {
            assert!(!is_party_code(bad), "{bad}");
        }
    }
}
