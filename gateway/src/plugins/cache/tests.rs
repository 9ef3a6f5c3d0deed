//! The cache's decisions without a router: policies of operations, tags of responses, and the
//! store's expiry and invalidation on a clock the tests move.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hive_router::query_planner::ast::operation::OperationDefinition;
use hive_router::query_planner::ast::selection_item::SelectionItem;
use hive_router::query_planner::ast::selection_set::{
    FieldSelection, InlineFragmentSelection, SelectionSet,
};
use hive_router::query_planner::state::supergraph_state::OperationKind;
use serde_json::json;

use super::clock::ManualClock;
use super::config::{CacheConfig, Scope, TypePolicy};
use super::entity;
use super::policy::Policies;
use super::schema::SchemaIndex;
use super::store::{Lookup, ResponseStore};
use super::tags;

const SDL: &str = r#"
schema { query: Query mutation: Mutation }
type Query {
  product(sku: String!): Product
  products: ProductPage!
  me: User
  orders: [Order!]!
}
type Mutation {
  addReview(sku: String!): Review!
  placeOrder(sku: String!): Order!
}
type ProductPage { nodes: [Product!]! hasNextPage: Boolean! }
type Product @join__type(graph: CATALOG, key: "sku") @join__type(graph: COMMERCE, key: "id") {
  sku: String!
  id: ID!
  name: String!
  price: Money!
  reviews: [Review!]!
}
type Money { amountMinor: Int! }
type Review @join__type(graph: CATALOG, key: "id") @cacheControl(maxAge: 20) { id: ID! rating: Int! product: Product! author: User! }
type User @join__type(graph: COMMERCE, key: "id") { id: ID! email: String }
type Order @join__type(graph: COMMERCE, key: "id") { id: ID! product: Product! }
"#;

fn config(types: &[(&str, u64, Scope)]) -> CacheConfig {
    CacheConfig {
        enabled: true,
        types: types
            .iter()
            .map(|(name, max_age_secs, scope)| {
                (
                    (*name).to_owned(),
                    TypePolicy {
                        max_age_secs: *max_age_secs,
                        scope: *scope,
                    },
                )
            })
            .collect(),
        mutations: BTreeMap::from([("placeorder".to_owned(), vec!["Product".to_owned()])]),
        ..CacheConfig::default()
    }
}

fn policies(types: &[(&str, u64, Scope)]) -> Policies {
    Policies::new(SchemaIndex::from_sdl(SDL).unwrap(), &config(types))
}

fn field(name: &str, children: Vec<SelectionItem>) -> SelectionItem {
    field_as(name, None, children)
}

fn field_as(name: &str, alias: Option<&str>, children: Vec<SelectionItem>) -> SelectionItem {
    SelectionItem::Field(FieldSelection {
        name: name.to_owned(),
        alias: alias.map(str::to_owned),
        selections: SelectionSet { items: children },
        ..FieldSelection::default()
    })
}

fn on(type_name: &str, children: Vec<SelectionItem>) -> SelectionItem {
    SelectionItem::InlineFragment(InlineFragmentSelection {
        type_condition: type_name.to_owned(),
        selections: SelectionSet { items: children },
        skip_if: None,
        include_if: None,
    })
}

fn operation(kind: OperationKind, items: Vec<SelectionItem>) -> OperationDefinition {
    OperationDefinition {
        name: None,
        operation_kind: Some(kind),
        selection_set: SelectionSet { items },
        variable_definitions: None,
    }
}

fn product_page() -> OperationDefinition {
    operation(
        OperationKind::Query,
        vec![field(
            "products",
            vec![field(
                "nodes",
                vec![
                    field("sku", vec![]),
                    field("price", vec![field("amountMinor", vec![])]),
                ],
            )],
        )],
    )
}

const EVERY_PUBLIC_TYPE: &[(&str, u64, Scope)] = &[
    ("ProductPage", 60, Scope::Public),
    ("product", 30, Scope::Public),
    ("Money", 300, Scope::Public),
];

#[test]
fn the_smallest_max_age_of_the_reached_types_wins() {
    let policy = policies(EVERY_PUBLIC_TYPE)
        .of_operation(&product_page())
        .expect("cacheable");
    assert_eq!(policy.max_age, Duration::from_secs(30));
    assert_eq!(policy.scope, Scope::Public);
    assert_eq!(
        policy.types.iter().map(String::as_str).collect::<Vec<_>>(),
        ["Money", "Product", "ProductPage"]
    );
}

#[test]
fn a_reached_type_without_policy_or_with_max_age_zero_makes_the_query_uncacheable() {
    let without_money = policies(&[
        ("ProductPage", 60, Scope::Public),
        ("Product", 30, Scope::Public),
    ]);
    assert_eq!(without_money.of_operation(&product_page()), None);
    let money_zero = policies(&[
        ("ProductPage", 60, Scope::Public),
        ("Product", 30, Scope::Public),
        ("Money", 0, Scope::Public),
    ]);
    assert_eq!(money_zero.of_operation(&product_page()), None);
}

#[test]
fn one_private_type_makes_the_whole_response_private() {
    let query = operation(
        OperationKind::Query,
        vec![field(
            "orders",
            vec![field("product", vec![field("sku", vec![])])],
        )],
    );
    let policy = policies(&[
        ("Order", 10, Scope::Private),
        ("Product", 30, Scope::Public),
    ])
    .of_operation(&query)
    .unwrap();
    assert_eq!(policy.scope, Scope::Private);
    assert_eq!(policy.max_age, Duration::from_secs(10));
}

#[test]
fn a_composed_cache_control_directive_is_a_policy_and_config_overrides_it() {
    let query = operation(
        OperationKind::Query,
        vec![field(
            "product",
            vec![field("reviews", vec![field("rating", vec![])])],
        )],
    );
    let from_directive = policies(&[("Product", 30, Scope::Public)])
        .of_operation(&query)
        .unwrap();
    assert_eq!(from_directive.max_age, Duration::from_secs(20));
    let overridden = policies(&[("Product", 30, Scope::Public), ("Review", 5, Scope::Public)])
        .of_operation(&query)
        .unwrap();
    assert_eq!(overridden.max_age, Duration::from_secs(5));
}

#[test]
fn mutations_and_introspection_are_never_cached() {
    let all = policies(&[
        ("Review", 60, Scope::Public),
        ("Product", 60, Scope::Public),
    ]);
    let mutation = operation(
        OperationKind::Mutation,
        vec![field("addReview", vec![field("id", vec![])])],
    );
    assert_eq!(all.of_operation(&mutation), None);
    let introspection = operation(
        OperationKind::Query,
        vec![field("__schema", vec![field("queryType", vec![])])],
    );
    assert_eq!(all.of_operation(&introspection), None);
}

#[test]
fn a_response_is_tagged_by_entity_key_and_by_type_when_the_key_was_not_selected() {
    let p = policies(EVERY_PUBLIC_TYPE);
    let query = operation(
        OperationKind::Query,
        vec![
            field_as(
                "product",
                Some("mug"),
                vec![field("sku", vec![]), field("name", vec![])],
            ),
            field_as("product", Some("pen"), vec![field("name", vec![])]),
        ],
    );
    let data = json!({ "mug": { "sku": "MUG-01", "name": "Mug" }, "pen": { "name": "Pen" } });
    let found = tags::find(&p.schema, "Query", &query.selection_set, &data);
    assert_eq!(
        found.entry_tags(),
        ["t:Product", "e:Product:MUG-01", "u:Product"]
    );
}

#[test]
fn a_mutation_response_invalidates_the_entities_it_returns_and_unkeyed_types_wholly() {
    let p = policies(EVERY_PUBLIC_TYPE);
    let mutation = operation(
        OperationKind::Mutation,
        vec![field(
            "addReview",
            vec![
                field("rating", vec![]),
                field(
                    "product",
                    vec![on("Product", vec![field_as("sku", Some("code"), vec![])])],
                ),
            ],
        )],
    );
    let data = json!({ "addReview": { "rating": 5, "product": { "code": "MUG-01" } } });
    let found = tags::find(&p.schema, "Mutation", &mutation.selection_set, &data);
    assert_eq!(
        found.invalidation_tags(),
        ["e:Product:MUG-01", "t:Review", "u:Product"]
    );
    assert_eq!(p.touched_by("placeOrder"), ["Product"]);
    assert!(p.touched_by("addReview").is_empty());
}

fn store() -> (Arc<ManualClock>, ResponseStore) {
    let clock = Arc::new(ManualClock::default());
    (clock.clone(), ResponseStore::new(1024 * 1024, clock))
}

fn put(store: &ResponseStore, key: u8, tags: &[&str], seq: u64) -> bool {
    store.put(
        [key; 32],
        Bytes::from_static(b"{\"data\":{}}"),
        Duration::from_secs(30),
        seq,
        tags.iter().map(|t| (*t).to_owned()).collect(),
        Scope::Public,
        "Product".to_owned(),
    )
}

#[test]
fn an_entry_expires_at_its_max_age_on_the_cache_clock() {
    let (clock, store) = store();
    assert!(put(&store, 1, &["t:Product"], store.sequence()));
    clock.advance_ms(29_999);
    assert!(matches!(store.get(&[1; 32]), Lookup::Hit(_)));
    clock.advance_ms(1);
    assert!(matches!(store.get(&[1; 32]), Lookup::Expired(_)));
    assert!(matches!(store.get(&[1; 32]), Lookup::Miss));
}

#[test]
fn invalidating_an_entity_drops_its_entries_and_leaves_unrelated_ones() {
    let (_clock, store) = store();
    let seq = store.sequence();
    put(&store, 1, &["t:Product", "e:Product:MUG-01"], seq);
    put(&store, 2, &["t:Product", "e:Product:PEN-01"], seq);
    put(&store, 3, &["t:Product", "u:Product"], seq);
    put(&store, 4, &["t:User", "e:User:1"], seq);
    store.invalidate(&["e:Product:MUG-01".to_owned(), "u:Product".to_owned()]);
    assert!(matches!(store.get(&[1; 32]), Lookup::Stale(_)));
    assert!(matches!(store.get(&[2; 32]), Lookup::Hit(_)));
    assert!(
        matches!(store.get(&[3; 32]), Lookup::Stale(_)),
        "unkeyed products may be MUG-01"
    );
    assert!(matches!(store.get(&[4; 32]), Lookup::Hit(_)));
    store.invalidate(&["t:Product".to_owned()]);
    assert!(matches!(store.get(&[2; 32]), Lookup::Stale(_)));
    assert!(matches!(store.get(&[4; 32]), Lookup::Hit(_)));
}

#[test]
fn a_response_read_before_a_write_is_not_stored_after_it() {
    let (_clock, store) = store();
    let read_before = store.sequence();
    store.invalidate(&["e:Product:MUG-01".to_owned()]);
    assert!(!put(&store, 1, &["e:Product:MUG-01"], read_before));
    assert!(matches!(store.get(&[1; 32]), Lookup::Miss));
    // A read that began after the write stores normally.
    assert!(put(&store, 1, &["e:Product:MUG-01"], store.sequence()));
    assert!(matches!(store.get(&[1; 32]), Lookup::Hit(_)));
}

#[test]
fn the_store_stays_within_its_byte_bound() {
    let clock = Arc::new(ManualClock::default());
    let store = ResponseStore::new(64 * 1024, clock);
    let body = Bytes::from(vec![b'x'; 4096]);
    for i in 0..100u8 {
        store.put(
            [i; 32],
            body.clone(),
            Duration::from_secs(30),
            store.sequence(),
            vec![],
            Scope::Public,
            "Product".to_owned(),
        );
    }
    let held = store.len();
    assert!(held > 0 && held <= 16, "{held} entries of ~4 KiB in 64 KiB");
}

#[test]
fn an_entities_fetch_is_planned_from_its_types_and_refused_without_a_policy() {
    let fetch = "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{__typename sku reviews{rating author{id}}}}}";
    let all = policies(&[("Product", 60, Scope::Public), ("User", 30, Scope::Private)]);
    let plan = entity::plan_of(&all, fetch).unwrap();
    assert_eq!(
        plan.max_age,
        Duration::from_secs(20),
        "Review's @cacheControl"
    );
    assert_eq!(plan.scope, Scope::Private);
    assert_eq!(
        plan.types.iter().map(String::as_str).collect::<Vec<_>>(),
        ["Product", "Review", "User"]
    );
    let without_user = policies(&[("Product", 60, Scope::Public)]);
    assert_eq!(entity::plan_of(&without_user, fetch), None);
    assert_eq!(
        entity::plan_of(&all, "{ product(sku: \"A\") { sku } }"),
        None,
        "not an entity fetch"
    );
}

#[test]
fn an_entity_entry_is_tagged_by_its_own_key_and_by_the_other_types_it_reaches() {
    let all = policies(&[("Product", 60, Scope::Public), ("User", 30, Scope::Public)]);
    let plan = entity::plan_of(
        &all,
        "{_entities(representations:[]){...on Product{reviews{author{id}}}}}",
    )
    .unwrap();
    let tags = entity::entity_tags(
        &all,
        &plan,
        &json!({"__typename": "Product", "sku": "MUG-01"}),
    );
    assert_eq!(
        tags,
        [
            "e:Product:MUG-01",
            "t:Product",
            "t:Review",
            "t:User",
            "u:Review",
            "u:User"
        ]
    );
    let by_id = entity::entity_tags(&all, &plan, &json!({"__typename": "Product", "id": "7"}));
    assert!(by_id.contains(&"u:Product".to_owned()), "{by_id:?}");
}

#[test]
fn entity_keys_differ_by_representation_selection_subgraph_and_viewer() {
    let key = |subgraph: &str, query: &str, rep: &str, scope: Scope, viewer: Option<&str>| {
        entity::entity_key(subgraph, query, &[], rep.as_bytes(), scope, viewer)
    };
    let base = key("catalog", "q1", "{\"sku\":\"A\"}", Scope::Public, None);
    assert_eq!(
        base,
        key("catalog", "q1", "{\"sku\":\"A\"}", Scope::Public, Some("x"))
    );
    assert_ne!(
        base,
        key("catalog", "q1", "{\"sku\":\"B\"}", Scope::Public, None)
    );
    assert_ne!(
        base,
        key("catalog", "q2", "{\"sku\":\"A\"}", Scope::Public, None)
    );
    assert_ne!(
        base,
        key("commerce", "q1", "{\"sku\":\"A\"}", Scope::Public, None)
    );
    assert_ne!(
        key("catalog", "q1", "{}", Scope::Private, Some("alice")),
        key("catalog", "q1", "{}", Scope::Private, Some("bob"))
    );
}

#[test]
fn an_entry_found_fresh_is_still_dropped_by_a_later_invalidation_of_its_tag() {
    let (_clock, store) = store();
    let seq = store.sequence();
    put(&store, 1, &["t:Product", "e:Product:MUG-01"], seq);
    put(&store, 2, &["t:Product", "e:Product:PEN-01"], seq);
    // Both found fresh, so both remember the epoch their check saw.
    assert!(matches!(store.get(&[1; 32]), Lookup::Hit(_)));
    assert!(matches!(store.get(&[2; 32]), Lookup::Hit(_)));
    store.invalidate(&["e:Product:MUG-01".to_owned()]);
    assert!(matches!(store.get(&[1; 32]), Lookup::Stale(_)));
    assert!(matches!(store.get(&[2; 32]), Lookup::Hit(_)));
    assert!(matches!(store.get(&[2; 32]), Lookup::Hit(_)));
    store.invalidate_all();
    assert!(matches!(store.get(&[2; 32]), Lookup::Stale(_)));
}

#[test]
fn an_entry_s_etag_is_the_hash_of_its_body() {
    let (_clock, store) = store();
    put(&store, 1, &["t:Product"], store.sequence());
    let Lookup::Hit(entry) = store.get(&[1; 32]) else {
        panic!("stored entry not found");
    };
    assert_eq!(entry.etag(), super::store::etag_of(b"{\"data\":{}}"));
    assert_eq!(entry.etag().len(), 34, "16 bytes in hex, quoted");
}

#[test]
fn an_operation_is_worked_out_once_per_text_and_keys_as_in_full() {
    use super::key;
    use super::prepared::OperationText;
    let policies = policies(EVERY_PUBLIC_TYPE);
    let text = OperationText::of("{ products { nodes { sku price { amountMinor } } } }", None);
    let first = policies.prepare(Some(text), &product_page());
    let again = policies.prepare(Some(text), &product_page());
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second request reuses the first's work"
    );
    assert_eq!(
        first
            .decision
            .as_ref()
            .map(|policy| (**policy).clone())
            .map_err(String::clone),
        policies.decide(&product_page())
    );
    let normalised = product_page().to_string();
    assert_eq!(
        key::finish_key(first.key_hasher.clone(), None, Scope::Public, None),
        key::response_key(&normalised, None, Scope::Public, None)
    );
    // Another operation name is another text; no text at all is worked out each time.
    assert_ne!(
        OperationText::of("{ products { nodes { sku } } }", Some("Q")),
        text
    );
    let unmemoised = policies.prepare(None, &product_page());
    assert!(!Arc::ptr_eq(&first, &unmemoised));
}

#[test]
fn a_fetch_s_root_fields_are_planned_one_by_one() {
    use super::root_fields::plan_of;
    let policies = policies(EVERY_PUBLIC_TYPE);
    let plan = plan_of(
        &policies,
        "query($s: String!) { a: product(sku: $s) { sku } \
         products { nodes { sku price { amountMinor } } } me { id } }",
    )
    .expect("two cacheable root fields");
    let names: Vec<&str> = plan
        .fields
        .iter()
        .map(|f| f.response_name.as_str())
        .collect();
    assert_eq!(names, ["a", "products", "me"]);
    assert_eq!(plan.fields[0].variables, ["s"]);
    assert!(plan.fields[0].text.starts_with("a: product(sku: $s)"));
    let types = |i: usize| -> Vec<String> {
        plan.fields[i]
            .policy
            .as_ref()
            .map(|p| p.types.iter().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(types(0), ["Product"]);
    assert_eq!(types(1), ["Money", "Product", "ProductPage"]);
    assert!(plan.fields[2].policy.is_none(), "User has no policy here");
    assert!(plan_of(&policies, "mutation { placeOrder(sku: \"X\") { id } }").is_none());
    assert!(
        plan_of(
            &policies,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { sku } } }"
        )
        .is_none()
    );
    assert!(
        plan_of(&policies, "{ me { id } }").is_none(),
        "nothing cacheable"
    );
}
