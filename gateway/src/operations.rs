//! The operation-name label for per-operation metrics, with bounded cardinality: names come
//! from clients, so an unbounded label would let any client grow `/metrics` without limit.
//! Well-formed names are kept up to [`MAX_NAMES`] distinct ones; everything else is `other`,
//! and unnamed operations are `anonymous`.

use std::collections::HashSet;
use std::sync::Mutex;

pub const MAX_NAMES: usize = 200;
const MAX_NAME_LEN: usize = 64;

/// The label of the current request's operation, kept in the request's plugin context.
pub struct OperationLabel(pub String);

#[derive(Default)]
pub struct OperationLabels {
    seen: Mutex<HashSet<String>>,
}

fn well_formed(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl OperationLabels {
    pub fn label(&self, operation_name: Option<&str>) -> String {
        let Some(name) = operation_name.filter(|n| !n.is_empty()) else {
            return "anonymous".to_owned();
        };
        if !well_formed(name) {
            return "other".to_owned();
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(name) || seen.len() < MAX_NAMES {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_until_the_cap_then_become_other() {
        let labels = OperationLabels::default();
        assert_eq!(labels.label(None), "anonymous");
        assert_eq!(labels.label(Some("")), "anonymous");
        assert_eq!(labels.label(Some("Me")), "Me");
        assert_eq!(labels.label(Some("bad name")), "other");
        assert_eq!(labels.label(Some("1x")), "other");
        assert_eq!(labels.label(Some(&"a".repeat(65))), "other");
        for i in 0..MAX_NAMES {
            labels.label(Some(&format!("Op{i}")));
        }
        assert_eq!(labels.label(Some("OneTooMany")), "other");
        assert_eq!(
            labels.label(Some("Me")),
            "Me",
            "a known name keeps its label"
        );
    }
}
