//! The error of bad user input: which field, and what is wrong with it.
//! Every document check (requests, events, policy names) reports one, so
//! that each edge can show it in its own terms (a line on stderr, a gRPC
//! `INVALID_ARGUMENT` with a field violation).

/// Bad input: the field at fault (a path in the document's own terms, such
/// as `compute.kind` or `constraints.avoid_links`; empty when the input as
/// a whole is at fault) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct FieldError {
    /// Dotted path of the field, in the document's terms.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    /// `field` is wrong: `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The input as a whole is wrong.
    pub fn whole(message: impl Into<String>) -> Self {
        FieldError::new("", message)
    }

    /// The same error one level down, under `parent` (`compute.kind`
    /// under `request` is `request.compute.kind`).
    pub fn under(self, parent: &str) -> Self {
        let field = match self.field.is_empty() {
            true => parent.to_owned(),
            false => format!("{parent}.{}", self.field),
        };
        FieldError { field, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_field() {
        let e = FieldError::new("compute.kind", "unknown kind `gpu`");
        assert_eq!(e.to_string(), "compute.kind: unknown kind `gpu`");
        assert_eq!(
            e.under("request").to_string(),
            "request.compute.kind: unknown kind `gpu`"
        );
        assert_eq!(FieldError::whole("empty").to_string(), "empty");
    }
}
