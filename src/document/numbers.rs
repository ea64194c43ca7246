//! How numbers are written for people: thousands separators, at most one
//! decimal. Tables, replay reports and explanations share it.

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
    }
}
