//! The response cache key: SHA-256 of the normalised operation (as the engine planned it, so
//! whitespace, comments and unused fragments of the client's text do not matter), its variables
//! in name order, and the scope (`public`, or the viewer's user id for private data).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::config::Scope;

/// Bumped when the key's layout changes, so old entries (in a shared L2) are never misread.
const KEY_VERSION: &[u8] = b"polygate-response-v1";

pub fn response_key(
    normalised_operation: &str,
    variables: Option<&HashMap<String, hive_router::sonic_rs::Value>>,
    scope: Scope,
    viewer: Option<&str>,
) -> [u8; 32] {
    finish_key(
        operation_hasher(normalised_operation),
        variables,
        scope,
        viewer,
    )
}

/// The key's hash state after the operation: worked out once per operation text
/// (`prepared.rs`), cloned for every request.
pub fn operation_hasher(normalised_operation: &str) -> Sha256 {
    let mut hash = Sha256::new();
    hash.update(KEY_VERSION);
    hash.update([0]);
    hash.update(normalised_operation.as_bytes());
    hash.update([0]);
    hash
}

/// The key: `operation`'s hash state continued with the variables and the scope.
pub fn finish_key(
    mut hash: Sha256,
    variables: Option<&HashMap<String, hive_router::sonic_rs::Value>>,
    scope: Scope,
    viewer: Option<&str>,
) -> [u8; 32] {
    if let Some(variables) = variables {
        let mut names: Vec<&String> = variables.keys().collect();
        names.sort();
        for name in names {
            hash.update(name.as_bytes());
            hash.update([1]);
            hash.update(
                hive_router::sonic_rs::to_string(&variables[name])
                    .unwrap_or_default()
                    .as_bytes(),
            );
            hash.update([0]);
        }
    }
    hash_scope(&mut hash, scope, viewer);
    hash.finalize().into()
}

/// The scope part of every cache key (response, entity, root field): `public`, or the viewer.
pub fn hash_scope(hash: &mut Sha256, scope: Scope, viewer: Option<&str>) {
    match (scope, viewer) {
        (Scope::Public, _) => hash.update(b"public"),
        (Scope::Private, Some(user)) => {
            hash.update(b"private:");
            hash.update(user.as_bytes());
        }
        (Scope::Private, None) => hash.update(b"private-anonymous"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, hive_router::sonic_rs::Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), hive_router::sonic_rs::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn variables_in_any_order_give_one_key_and_other_values_another() {
        let a = vars(&[("sku", "\"MUG-01\""), ("first", "3")]);
        let b = vars(&[("first", "3"), ("sku", "\"MUG-01\"")]);
        let c = vars(&[("first", "3"), ("sku", "\"PEN-01\"")]);
        let q = "query($sku:String!){product(sku:$sku){sku}}";
        assert_eq!(
            response_key(q, Some(&a), Scope::Public, None),
            response_key(q, Some(&b), Scope::Public, None)
        );
        assert_ne!(
            response_key(q, Some(&a), Scope::Public, None),
            response_key(q, Some(&c), Scope::Public, None)
        );
    }

    #[test]
    fn private_keys_differ_per_viewer_and_from_the_public_key() {
        let q = "{me{id}}";
        let alice = response_key(q, None, Scope::Private, Some("alice"));
        let bob = response_key(q, None, Scope::Private, Some("bob"));
        assert_ne!(alice, bob);
        assert_ne!(alice, response_key(q, None, Scope::Public, None));
    }
}
