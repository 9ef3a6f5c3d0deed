//! What the cache needs to know about the supergraph: each composite type's fields (to follow an
//! operation through the types it reaches), its entity key, and any `@cacheControl` on it.
//!
//! Built from the supergraph document Hive Router hands its plugins on every (re)load. The key
//! kept per entity is the first single-field `@join__type(key:)` in the supergraph (for
//! `Product`, catalog's `sku`): tags name entities by that one key so a read and a write agree.

use std::collections::HashMap;

use hive_router::graphql_tools::parser::schema::{
    Definition, Directive, Document, Type, TypeDefinition, Value,
};

use super::config::{Scope, TypePolicy};

/// Composite types of the supergraph, by name.
#[derive(Debug, Default)]
pub struct SchemaIndex {
    pub query_type: String,
    pub mutation_type: String,
    types: HashMap<String, CompositeType>,
}

#[derive(Debug, Default)]
struct CompositeType {
    /// Field name → the named type it returns (list and non-null wrappers removed).
    fields: HashMap<String, String>,
    key: Option<String>,
    /// From a composed `@cacheControl(maxAge:, scope:)` on the type, when the supergraph has it.
    directive: Option<TypePolicy>,
}

fn named<'a>(ty: &'a Type<'static, String>) -> &'a str {
    match ty {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named(inner),
    }
}

/// The first single-field key among a type's `@join__type` directives.
fn first_key(directives: &[Directive<'static, String>]) -> Option<String> {
    directives
        .iter()
        .filter(|d| d.name == "join__type")
        .filter_map(|d| d.arguments.iter().find(|(name, _)| name == "key"))
        .filter_map(|(_, value)| match value {
            Value::String(key) => Some(key.trim().to_owned()),
            _ => None,
        })
        .find(|key| !key.is_empty() && !key.contains([' ', '{', '}']))
}

fn cache_control(directives: &[Directive<'static, String>]) -> Option<TypePolicy> {
    let directive = directives.iter().find(|d| d.name == "cacheControl")?;
    let mut policy = TypePolicy {
        max_age_secs: 0,
        scope: Scope::Public,
    };
    for (name, value) in &directive.arguments {
        match (name.as_str(), value) {
            ("maxAge", Value::Int(n)) => {
                policy.max_age_secs = n.as_i64().unwrap_or(0).max(0) as u64;
            }
            ("scope", Value::Enum(s)) if s.eq_ignore_ascii_case("private") => {
                policy.scope = Scope::Private;
            }
            _ => {}
        }
    }
    Some(policy)
}

impl SchemaIndex {
    pub fn from_document(document: &Document<'static, String>) -> Self {
        let mut index = SchemaIndex {
            query_type: "Query".to_owned(),
            mutation_type: "Mutation".to_owned(),
            types: HashMap::new(),
        };
        for definition in &document.definitions {
            match definition {
                Definition::SchemaDefinition(schema) => {
                    if let Some(query) = &schema.query {
                        index.query_type = query.clone();
                    }
                    if let Some(mutation) = &schema.mutation {
                        index.mutation_type = mutation.clone();
                    }
                }
                Definition::TypeDefinition(TypeDefinition::Object(object)) => {
                    index.types.insert(
                        object.name.clone(),
                        CompositeType {
                            fields: object
                                .fields
                                .iter()
                                .map(|f| (f.name.clone(), named(&f.field_type).to_owned()))
                                .collect(),
                            key: first_key(&object.directives),
                            directive: cache_control(&object.directives),
                        },
                    );
                }
                Definition::TypeDefinition(TypeDefinition::Interface(interface)) => {
                    index.types.insert(
                        interface.name.clone(),
                        CompositeType {
                            fields: interface
                                .fields
                                .iter()
                                .map(|f| (f.name.clone(), named(&f.field_type).to_owned()))
                                .collect(),
                            key: first_key(&interface.directives),
                            directive: cache_control(&interface.directives),
                        },
                    );
                }
                Definition::TypeDefinition(TypeDefinition::Union(union)) => {
                    index.types.insert(
                        union.name.clone(),
                        CompositeType {
                            directive: cache_control(&union.directives),
                            ..CompositeType::default()
                        },
                    );
                }
                _ => {}
            }
        }
        index
    }

    /// Parses a supergraph's SDL (tests, and tools outside the router).
    pub fn from_sdl(sdl: &str) -> anyhow::Result<Self> {
        let document = hive_router::graphql_tools::parser::parse_schema::<String>(sdl)
            .map_err(|e| anyhow::anyhow!("supergraph does not parse: {e}"))?
            .into_static();
        Ok(Self::from_document(&document))
    }

    pub fn is_composite(&self, type_name: &str) -> bool {
        self.types.contains_key(type_name)
    }

    /// The named type `field` of `type_name` returns; `None` for an unknown field.
    pub fn field_type(&self, type_name: &str, field: &str) -> Option<&str> {
        self.types
            .get(type_name)?
            .fields
            .get(field)
            .map(String::as_str)
    }

    /// The entity key field the cache names `type_name`'s entities by.
    pub fn key(&self, type_name: &str) -> Option<&str> {
        self.types.get(type_name)?.key.as_deref()
    }

    pub fn directive_policy(&self, type_name: &str) -> Option<TypePolicy> {
        self.types.get(type_name)?.directive
    }
}
