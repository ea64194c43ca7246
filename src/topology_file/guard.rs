//! A linear pre-scan that refuses texts the YAML parser would take too long
//! on, before it sees them: flow collections (`[`, `{`) nested deeper than
//! any topology needs. (libyaml's time grows faster than linearly with flow
//! depth: 50,000 nested `{a: ` take it seconds.) Alias expansion ("billion
//! laughs") is bounded by serde_yaml's own repetition limit.

/// Deepest flow nesting accepted; a topology needs about 3.
pub const MAX_FLOW_DEPTH: usize = 64;

/// `Err((line, message))` when `text` nests flow collections deeper than
/// [`MAX_FLOW_DEPTH`]. Quoted scalars and comments are skipped as YAML
/// tokenizes them (quotes open only at a token boundary).
pub fn check_flow_depth(text: &str) -> Result<(), (usize, String)> {
    #[derive(PartialEq)]
    enum State {
        Plain,
        Single,
        Double,
        Comment,
    }
    let bytes = text.as_bytes();
    let mut state = State::Plain;
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let boundary = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':'
            );
        if c == b'\n' {
            line += 1;
            if state == State::Comment {
                state = State::Plain;
            }
        }
        match state {
            State::Plain => match c {
                b'#' if boundary => state = State::Comment,
                b'\'' if boundary => state = State::Single,
                b'"' if boundary => state = State::Double,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err((
                            line,
                            format!("collections nested deeper than {MAX_FLOW_DEPTH} levels"),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
            State::Single if c == b'\'' => {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 1; // '' is an escaped quote
                } else {
                    state = State::Plain;
                }
            }
            State::Double if c == b'\\' => i += 1,
            State::Double if c == b'"' => state = State::Plain,
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_passes() {
        let text = "a: [1, {b: [2]}]\nc: \"[[[[\" # [[[[\nd: 'it''s [[['\ne: x'y [z]\n";
        assert_eq!(check_flow_depth(text), Ok(()));
    }

    #[test]
    fn deep_flow_nesting_is_refused_with_its_line() {
        let text = format!("a: 1\nb: {}{}\n", "[".repeat(65), "]".repeat(65));
        let (line, msg) = check_flow_depth(&text).unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("deeper than 64"));
        let ok = format!("b: {}{}\n", "{a: ".repeat(64), "}".repeat(64));
        assert_eq!(check_flow_depth(&ok), Ok(()));
    }

    #[test]
    fn quotes_do_not_hide_brackets() {
        // A quote inside a plain scalar is not a quote: the brackets count.
        let text = format!("a: don't {}\n", "[".repeat(70));
        assert!(check_flow_depth(&text).is_err());
    }
}
