//! Capabilities: what one subgraph lends the others and the gateway without either importing its
//! crate (the session store issuing and checking tokens, a change feed, …).
//!
//! A capability is a trait the kit defines (e.g. [`crate::auth::TokenVerifier`]); a subgraph that
//! implements it [`provide`](Capabilities::provide)s an `Arc<dyn Trait>` while it opens, and any
//! other part of the process [`get`](Capabilities::get)s it by that type. Non-obvious: the map is
//! shared and late-bound (a clone is a handle to the same map), so a consumer opened before its
//! provider can keep the handle and look the capability up when it first needs it.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// A capability named by its type, without a value: what a subgraph declares it
/// [provides](crate::Subgraph::provides) or [needs](crate::Subgraph::needs), so a process can
/// tell before opening anything whether a remote subgraph's stores must be opened for a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CapabilityId {
    id: TypeId,
    /// The trait's path, for messages.
    pub name: &'static str,
}

impl CapabilityId {
    /// The capability `T` (usually `dyn SomeTrait`), as [`Capabilities::provide`] keys it.
    pub fn of<T: ?Sized + Send + Sync + 'static>() -> Self {
        Self {
            id: TypeId::of::<Arc<T>>(),
            name: std::any::type_name::<T>(),
        }
    }
}

/// The capabilities one process's subgraphs provide, by type.
#[derive(Clone, Default)]
pub struct Capabilities {
    map: Arc<RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl Capabilities {
    /// Provides `value` as the capability `T` (usually `dyn SomeTrait`), replacing any earlier one.
    pub fn provide<T: ?Sized + Send + Sync + 'static>(&self, value: Arc<T>) {
        self.map
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(TypeId::of::<Arc<T>>(), Arc::new(value));
    }

    /// The capability `T`, when some subgraph in this process provides it.
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.map
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&TypeId::of::<Arc<T>>())
            .and_then(|value| value.downcast_ref::<Arc<T>>())
            .cloned()
    }

    /// Which capabilities are provided now (to tell later which were added since).
    pub fn provided(&self) -> HashSet<TypeId> {
        self.map
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// A new map with the capabilities provided since `before` was taken.
    pub fn added_since(&self, before: &HashSet<TypeId>) -> Capabilities {
        let added = self
            .map
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter(|(key, _)| !before.contains(key))
            .map(|(key, value)| (*key, value.clone()))
            .collect();
        Capabilities {
            map: Arc::new(RwLock::new(added)),
        }
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.map.read().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("Capabilities")
            .field("provided", &count)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    trait Greeter: Send + Sync {
        fn greet(&self) -> String;
    }
    struct English;
    impl Greeter for English {
        fn greet(&self) -> String {
            "hello".into()
        }
    }

    #[test]
    fn a_capability_id_names_what_provide_keys() {
        let capabilities = Capabilities::default();
        capabilities.provide::<dyn Greeter>(Arc::new(English));
        assert!(
            capabilities
                .provided()
                .contains(&CapabilityId::of::<dyn Greeter>().id)
        );
        assert!(CapabilityId::of::<dyn Greeter>().name.contains("Greeter"));
    }

    #[test]
    fn a_provided_trait_object_is_found_by_its_type() {
        let capabilities = Capabilities::default();
        assert!(capabilities.get::<dyn Greeter>().is_none());
        capabilities.provide::<dyn Greeter>(Arc::new(English));
        assert_eq!(capabilities.get::<dyn Greeter>().unwrap().greet(), "hello");
    }

    #[test]
    fn what_was_added_since_a_moment_is_told_apart() {
        struct French;
        impl Greeter for French {
            fn greet(&self) -> String {
                "bonjour".into()
            }
        }
        trait Counter: Send + Sync {}
        struct One;
        impl Counter for One {}
        let capabilities = Capabilities::default();
        capabilities.provide::<dyn Counter>(Arc::new(One));
        let before = capabilities.provided();
        capabilities.provide::<dyn Greeter>(Arc::new(French));
        let added = capabilities.added_since(&before);
        assert_eq!(added.get::<dyn Greeter>().unwrap().greet(), "bonjour");
        assert!(added.get::<dyn Counter>().is_none());
    }

    #[test]
    fn a_clone_sees_what_is_provided_later() {
        let consumer = Capabilities::default();
        let provider = consumer.clone();
        provider.provide::<dyn Greeter>(Arc::new(English));
        assert!(consumer.get::<dyn Greeter>().is_some());
    }
}
