//! Reading a topology document: YAML -> serde types -> drafts -> model, with
//! every error located at a line.
//!
//! The common case (a valid file) takes one typed serde pass. Only when that
//! fails does the loader go back over the text item by item, so that every
//! broken item is reported, not just the first.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use super::document::{PathError, TopologyDocument};
use super::spans::Spans;
use crate::model::{BuildErrors, Topology};

/// Largest topology file accepted, in bytes (a 10,000-router file is ~5 MB).
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// One problem in a file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or other origin) of the text.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong, naming the item and field.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.origin, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.origin, self.message),
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// Why a topology file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why (said in the message, so not a separate `source`).
        error: std::io::Error,
    },
    /// The text is not a valid topology; every problem found, in file order.
    #[error("{}", display_all(.0))]
    Invalid(Vec<Diagnostic>),
}

fn display_all(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl LoadError {
    /// The located problems (empty for I/O errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid(d) => d,
        }
    }
}

/// Reads and loads a topology file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Topology, LoadError> {
    let (text, origin) = read_text(path.as_ref())?;
    parse_str(&text, &origin)
}

/// Reads a file as UTF-8 text, refusing one too big; the text and the
/// origin that names it in errors.
pub(super) fn read_text(path: &Path) -> Result<(String, String), LoadError> {
    let origin = path.display().to_string();
    let io = |error| LoadError::Io {
        path: origin.clone(),
        error,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(too_big(&origin, size as usize));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        LoadError::Invalid(vec![Diagnostic {
            origin: origin.clone(),
            line: None,
            column: None,
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        }])
    })?;
    Ok((text, origin))
}

fn too_big(origin: &str, size: usize) -> LoadError {
    LoadError::Invalid(vec![Diagnostic {
        origin: origin.to_owned(),
        line: None,
        column: None,
        message: format!(
            "file is {size} bytes, more than the {MAX_FILE_BYTES} a topology may have"
        ),
    }])
}

/// Loads a topology from YAML text; `origin` names it in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<Topology, LoadError> {
    let document = parse_document(text, origin)?;
    let builder = document
        .to_builder()
        .map_err(|errors| locate_all(text, origin, errors))?;
    builder
        .build()
        .map_err(|errors| locate_all(text, origin, build_errors(errors)))
}

/// Parses YAML text into a topology document (syntax and types only).
pub fn parse_document(text: &str, origin: &str) -> Result<TopologyDocument, LoadError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_big(origin, text.len()));
    }
    if let Err((line, message)) = super::guard::check_flow_depth(text) {
        return Err(LoadError::Invalid(vec![Diagnostic {
            origin: origin.to_owned(),
            line: Some(line),
            column: None,
            message,
        }]));
    }
    match serde_yaml::from_str::<TopologyDocument>(text) {
        Ok(doc) => Ok(doc),
        Err(first) => Err(item_by_item(text, origin, first)),
    }
}

pub(super) fn build_errors(errors: BuildErrors) -> Vec<PathError> {
    errors
        .0
        .into_iter()
        .map(|e| PathError {
            path: e.place.path(),
            message: e.to_string(),
        })
        .collect()
}

/// Locates each error with the span index, sorted by position.
pub(super) fn locate_all(text: &str, origin: &str, errors: Vec<PathError>) -> LoadError {
    let spans = Spans::index(text);
    let mut diagnostics: Vec<Diagnostic> = errors
        .into_iter()
        .map(|e| {
            let pos = spans.find(&e.path);
            Diagnostic {
                origin: origin.to_owned(),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                message: e.message,
            }
        })
        .collect();
    diagnostics.sort_by_key(|d| (d.line.unwrap_or(usize::MAX), d.column));
    LoadError::Invalid(diagnostics)
}

/// The slow path after a failed typed parse: checks each list item on its
/// own so that every bad item is reported.
fn item_by_item(text: &str, origin: &str, first: serde_yaml::Error) -> LoadError {
    let from_first = || {
        let loc = first.location();
        LoadError::Invalid(vec![Diagnostic {
            origin: origin.to_owned(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: strip_location(&first.to_string()),
        }])
    };
    // Syntax errors (and alias or nesting limits) stop here: nothing to go on.
    let Ok(value) = serde_yaml::from_str::<Value>(text) else {
        return from_first();
    };
    let mut errors = Vec::new();
    if let Value::Mapping(map) = &value {
        check_items::<super::document::OperatorEntry>(map, "operators", &mut errors);
        check_items::<super::document::RouterEntry>(map, "routers", &mut errors);
        check_items::<super::document::LinkEntry>(map, "links", &mut errors);
        check_items::<super::document::DatacenterEntry>(map, "datacenters", &mut errors);
    }
    // The document level (missing sections, unknown keys, wrong types)
    // is checked with the items blanked out.
    if let Value::Mapping(mut map) = value {
        for key in ["operators", "routers", "links", "datacenters"] {
            if let Some(Value::Sequence(items)) = map.get_mut(key) {
                items.clear();
            }
        }
        if let Err(e) = deserialize::<TopologyDocument>(Value::Mapping(map)) {
            errors.push(e);
        }
    } else if let Err(e) = deserialize::<TopologyDocument>(value) {
        errors.push(e);
    }
    if errors.is_empty() {
        return from_first();
    }
    locate_all(text, origin, errors)
}

fn check_items<T: DeserializeOwned>(
    map: &serde_yaml::Mapping,
    section: &str,
    errors: &mut Vec<PathError>,
) {
    let Some(Value::Sequence(items)) = map.get(section) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        if let Err(mut e) = deserialize::<T>(item.clone()) {
            let id = item.get("id").and_then(Value::as_str);
            let inner = if e.path.is_empty() {
                String::new()
            } else {
                format!(".{}", e.path)
            };
            let what = match id {
                Some(id) => format!("`{id}` ({section}[{i}]{inner})"),
                None => format!("{section}[{i}]{inner}"),
            };
            e.message = format!("{what}: {}", e.message);
            e.path = format!("{section}[{i}]{inner}");
            errors.push(e);
        }
    }
}

/// Deserializes a value, keeping the path inside it where serde failed.
fn deserialize<T: DeserializeOwned>(value: Value) -> Result<T, PathError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let message = e.into_inner().to_string();
        // Point at an unknown key itself rather than at its item (the path
        // may name it already).
        if let Some(field) = unknown_field(&message) {
            let named = path.rsplit('.').next() == Some(field.as_str());
            path = match (path.is_empty(), named) {
                (true, _) => field,
                (false, true) => path,
                (false, false) => format!("{path}.{field}"),
            };
        }
        PathError { path, message }
    })
}

/// The key named by serde's "unknown field `x`" message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// serde_yaml appends " at line L column C"; the diagnostic carries those.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
