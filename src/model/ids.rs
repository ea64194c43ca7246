//! Identifier newtypes: the ids users write in topology files and requests.
//!
//! Each kind of thing has its own id type so a router id can never be passed
//! where a link id is expected. Ids order, hash and print as their text.

use std::borrow::Borrow;
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as written by a user.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// The id of an operator (one administrative domain, one IGP).
    OperatorId
);
id_type!(
    /// The id of a router; unique across routers and data centers.
    RouterId
);
id_type!(
    /// The id of a link; defaults to `<a>-<b>` in topology files.
    LinkId
);
id_type!(
    /// The id of a data center; unique across routers and data centers.
    DatacenterId
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_look_up_by_str_and_print_as_text() {
        let mut m = HashMap::new();
        m.insert(RouterId::new("bj1"), 1);
        assert_eq!(m.get("bj1"), Some(&1));
        assert_eq!(RouterId::new("bj1").to_string(), "bj1");
        assert_eq!(format!("{:?}", LinkId::new("a-b")), "LinkId(\"a-b\")");
        assert!(RouterId::new("a") < RouterId::new("b"));
    }
}
