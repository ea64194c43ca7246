//! Where things are in a YAML text: an index from document paths
//! (`routers[3].msd`) to line and column, so errors found after parsing can
//! still point at the line to fix.
//!
//! Built only when there is an error to report, from the event stream of a
//! second, span-aware parser (serde gives values, not positions). Aliases are
//! not expanded: an alias is indexed where it is written.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A position in a text, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Document path -> position of the key (for mapping entries) or of the node.
#[derive(Debug, Default)]
pub struct Spans {
    positions: HashMap<String, Pos>,
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        expect_key: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Spans {
    /// Indexes `text` as far as it parses (a syntax error ends the index early).
    pub fn index(text: &str) -> Spans {
        let mut positions = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let pos = Pos {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            match event {
                Event::Scalar(value, ..) => match stack.last_mut() {
                    Some(Frame::Map {
                        path,
                        key,
                        expect_key,
                    }) if *expect_key => {
                        positions.entry(join(path, &value)).or_insert(pos);
                        *key = Some(value.into_owned());
                        *expect_key = false;
                    }
                    _ => {
                        if let Some(path) = child_path(&mut stack) {
                            positions.entry(path).or_insert(pos);
                        }
                        value_done(&mut stack);
                    }
                },
                Event::Alias(_) => {
                    if let Some(path) = child_path(&mut stack) {
                        positions.entry(path).or_insert(pos);
                    }
                    value_done(&mut stack);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    // A collection used as a mapping key gets an unusable path.
                    let path = child_path(&mut stack).unwrap_or_else(|| "?".to_owned());
                    positions.entry(path.clone()).or_insert(pos);
                    stack.push(match event {
                        Event::MappingStart(..) => Frame::Map {
                            path,
                            key: None,
                            expect_key: true,
                        },
                        _ => Frame::Seq { path, next: 0 },
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    value_done(&mut stack);
                }
                _ => {}
            }
        }
        Spans { positions }
    }

    /// The position of `path`, or of its nearest indexed ancestor
    /// (`routers[3].locator` -> `routers[3]` when the field is missing).
    pub fn find(&self, path: &str) -> Option<Pos> {
        let mut path = path;
        loop {
            if let Some(pos) = self.positions.get(path) {
                return Some(*pos);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

/// The path of the value node starting now, and moves the parent on. `None`
/// when the node is a mapping key.
fn child_path(stack: &mut [Frame]) -> Option<String> {
    match stack.last_mut() {
        None => Some(String::new()),
        Some(Frame::Seq { path, next }) => {
            let p = format!("{path}[{next}]");
            *next += 1;
            Some(p)
        }
        Some(Frame::Map {
            path,
            key,
            expect_key,
        }) => {
            if *expect_key {
                None
            } else {
                Some(join(path, key.as_deref().unwrap_or("?")))
            }
        }
    }
}

/// Marks the value of the innermost mapping entry as complete.
fn value_done(stack: &mut [Frame]) {
    if let Some(Frame::Map {
        expect_key, key, ..
    }) = stack.last_mut()
    {
        if !*expect_key {
            *expect_key = true;
        } else {
            // A complex key just ended: its value comes next.
            *expect_key = false;
            *key = Some("?".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_and_items() {
        let text = "version: 1\nrouters:\n  - id: a\n    msd: 3\n  - {id: b, msd: 4}\nlinks: []\n";
        let s = Spans::index(text);
        assert_eq!(s.find("version"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(s.find("routers[0]"), Some(Pos { line: 3, column: 5 }));
        assert_eq!(s.find("routers[0].msd"), Some(Pos { line: 4, column: 5 }));
        assert_eq!(s.find("routers[1].msd").map(|p| p.line), Some(5));
        assert_eq!(s.find("routers[1].msd").map(|p| p.column), Some(13));
        // A missing field falls back to its item.
        assert_eq!(
            s.find("routers[0].locator"),
            Some(Pos { line: 3, column: 5 })
        );
        assert_eq!(s.find("links").map(|p| p.line), Some(6));
    }

    #[test]
    fn nested_sequences_and_aliases() {
        let text = "a: &x\n  - [1, 2]\n  - k: v\nb: *x\nc:\n  d:\n    - e\n";
        let s = Spans::index(text);
        assert_eq!(s.find("a[0][1]").map(|p| p.line), Some(2));
        assert_eq!(s.find("a[1].k").map(|p| p.line), Some(3));
        assert_eq!(s.find("b").map(|p| p.line), Some(4));
        assert_eq!(s.find("c.d[0]").map(|p| p.line), Some(7));
    }

    #[test]
    fn stops_quietly_at_a_syntax_error() {
        let s = Spans::index("a: 1\nb: [\n");
        assert_eq!(s.find("a").map(|p| p.line), Some(1));
    }
}
