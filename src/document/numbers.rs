//! How numbers and times are written for people: thousands separators, at
//! most one decimal; times in RFC 3339 (UTC). Tables, replay reports,
//! explanations and JSON documents share it.

/// Formats a number with thousands separators: 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a float with at most one decimal and thousands separators.
pub fn amount(x: f64) -> String {
    if x.fract().abs() < 0.05 {
        thousands(x.round() as u64)
    } else {
        format!(
            "{}.{}",
            thousands(x.trunc() as u64),
            ((x.fract() * 10.0).round() as u64).min(9)
        )
    }
}

/// A time in RFC 3339, UTC: `2026-12-04T17:51:41.123Z` (nanoseconds as
/// far as they are not zero).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    prost_types::Timestamp::from(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(amount(1500.0), "1,500");
        assert_eq!(amount(2.25), "2.3");
        let t =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_796_406_701_250);
        assert_eq!(rfc3339(t), "2026-12-04T17:51:41.250Z");
    }
}
