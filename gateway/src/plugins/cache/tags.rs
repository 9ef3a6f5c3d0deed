//! Tags name what a response holds, so a write can drop exactly the entries that hold what it
//! changed: `t:Product` (any Product), `e:Product:MUG-01` (that entity, by the key the schema
//! index keeps) and `u:Product` (a Product whose key the client did not select, which therefore
//! could be any of them).
//!
//! Invalidating one entity bumps its `e:` tag and its type's `u:` tag; invalidating a whole type
//! bumps its `t:` tag. Both are found by walking a JSON response along the operation's
//! selection, typed by the schema.

use std::collections::BTreeSet;

use hive_router::query_planner::ast::selection_item::SelectionItem;
use hive_router::query_planner::ast::selection_set::SelectionSet;
use serde_json::Value;

use super::schema::SchemaIndex;

/// Responses nest far less deeply; a limit keeps a hostile document from recursing unbounded.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    /// Every composite type met.
    pub types: BTreeSet<String>,
    /// `Type:keyValue` of every entity met with its key.
    pub entities: BTreeSet<String>,
    /// Types met at least once without their key.
    pub unkeyed: BTreeSet<String>,
}

impl Found {
    /// The tags of a cache entry holding what was found.
    pub fn entry_tags(&self) -> Vec<String> {
        let mut tags = Vec::with_capacity(self.types.len() + self.entities.len());
        tags.extend(self.types.iter().map(|t| format!("t:{t}")));
        tags.extend(self.entities.iter().map(|e| format!("e:{e}")));
        tags.extend(self.unkeyed.iter().map(|t| format!("u:{t}")));
        tags
    }

    /// The tags a write that returned what was found must bump: each keyed entity (and the
    /// `u:` tag of its type); a type seen only without its key, wholly.
    pub fn invalidation_tags(&self) -> Vec<String> {
        let mut tags = BTreeSet::new();
        for entity in &self.entities {
            tags.insert(format!("e:{entity}"));
            if let Some((type_name, _)) = entity.split_once(':') {
                tags.insert(format!("u:{type_name}"));
            }
        }
        for type_name in &self.unkeyed {
            tags.insert(format!("t:{type_name}"));
        }
        tags.into_iter().collect()
    }
}

fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Walks `data` (a response's `data`) along `selection`, rooted at `root_type`.
pub fn find(
    schema: &SchemaIndex,
    root_type: &str,
    selection: &SelectionSet,
    data: &Value,
) -> Found {
    let mut found = Found::default();
    walk(schema, root_type, selection, data, &mut found, 0);
    found
}

fn walk(
    schema: &SchemaIndex,
    declared: &str,
    selection: &SelectionSet,
    value: &Value,
    found: &mut Found,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                walk(schema, declared, selection, item, found, depth + 1);
            }
        }
        Value::Object(object) => {
            let concrete = object
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or(declared);
            if depth > 0 {
                found.types.insert(concrete.to_owned());
                if let Some(key) = schema.key(concrete) {
                    match response_name(selection, key, concrete, object.contains_key("__typename"))
                        .and_then(|name| object.get(name))
                        .and_then(key_text)
                    {
                        Some(value) => {
                            found.entities.insert(format!("{concrete}:{value}"));
                        }
                        None => {
                            found.unkeyed.insert(concrete.to_owned());
                        }
                    }
                }
            }
            walk_fields(schema, concrete, selection, object, found, depth);
        }
        _ => {}
    }
}

fn walk_fields(
    schema: &SchemaIndex,
    concrete: &str,
    selection: &SelectionSet,
    object: &serde_json::Map<String, Value>,
    found: &mut Found,
    depth: usize,
) {
    for item in &selection.items {
        match item {
            SelectionItem::Field(field) => {
                let Some(returns) = schema.field_type(concrete, &field.name) else {
                    continue;
                };
                if !schema.is_composite(returns) {
                    continue;
                }
                let name = field.alias.as_deref().unwrap_or(&field.name);
                if let Some(child) = object.get(name) {
                    walk(schema, returns, &field.selections, child, found, depth + 1);
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let on = fragment.type_condition.as_str();
                // Without `__typename` the fragment's type cannot be checked: follow it anyway,
                // so an entity it selects is still tagged (an extra tag only drops more).
                if on == concrete || !object.contains_key("__typename") {
                    let typed = if schema.is_composite(on) {
                        on
                    } else {
                        concrete
                    };
                    walk_fields(schema, typed, &fragment.selections, object, found, depth);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

/// Where the response holds `key` of an object of type `concrete`: its alias, or its name.
fn response_name<'s>(
    selection: &'s SelectionSet,
    key: &str,
    concrete: &str,
    typed: bool,
) -> Option<&'s str> {
    for item in &selection.items {
        match item {
            SelectionItem::Field(field) if field.name == key => {
                return Some(field.alias.as_deref().unwrap_or(&field.name));
            }
            SelectionItem::InlineFragment(fragment)
                if fragment.type_condition == concrete || !typed =>
            {
                if let Some(name) = response_name(&fragment.selections, key, concrete, typed) {
                    return Some(name);
                }
            }
            _ => {}
        }
    }
    None
}
