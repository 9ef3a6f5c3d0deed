//! `PROFILE` of every named read query on the live graph: db hits, rows and the operator tree,
//! for the design doc (`polygate-org profile`) and for `/metrics` (`polygate_org_query_db_hits`,
//! refreshed by the profiling task when `profile_every_secs` is set).
//!
//! Non-obvious: `neo4rs` keeps the profile of a result summary crate-private and only shows it
//! through `Debug`, so [`parse_profile`] reads that text (nested `Dictionary`/`List` values) back
//! into operators. The sample arguments are discovered in the graph itself (its root, a manager
//! below the root, the two deepest people, the root department, the densest department), so the
//! same command profiles
//! the demo org and a generated 100 k org. `department_heads` asks for the department with the
//! most members, the case the `MEMBER_OF(role)` index is for.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use neo4rs::{Operation, Query, query};

use super::{Neo4jStore, classify, cypher, get, reads::subordinates_query};
use crate::domain::Depth;
use crate::store::StoreError;

/// One operator of a profiled plan, in pre-order.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub depth: usize,
    pub name: String,
    pub rows: i64,
    pub db_hits: i64,
    /// The operator's details (index used, predicate, …).
    pub details: String,
}

/// A profiled query.
#[derive(Debug, Clone)]
pub struct Profiled {
    pub name: &'static str,
    pub rows: usize,
    pub db_hits: i64,
    pub operators: Vec<Operator>,
}

impl Profiled {
    /// The plan as an indented table, for the design doc.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{}: {} rows, {} db hits\n",
            self.name, self.rows, self.db_hits
        );
        for op in &self.operators {
            let _ = writeln!(
                out,
                "  {:indent$}{} (rows {}, db hits {}){}",
                "",
                op.name,
                op.rows,
                op.db_hits,
                if op.details.is_empty() {
                    String::new()
                } else {
                    format!(" {}", op.details)
                },
                indent = op.depth * 2
            );
        }
        out
    }
}

/// Ids to run the queries with, found in the graph.
#[derive(Debug, Clone)]
pub struct Samples {
    pub root: String,
    pub root_email: String,
    pub manager: String,
    pub deepest: String,
    pub other: String,
    pub department: String,
    /// The department with the most members (its head and people are the dense-node case).
    pub densest: String,
}

impl Samples {
    pub async fn discover(store: &Neo4jStore) -> Result<Option<Samples>, StoreError> {
        let rows = store
            .read(query(
                "MATCH (root:Employee) WHERE NOT (root)-[:REPORTS_TO]->()
                 WITH root ORDER BY root.id LIMIT 1
                 MATCH (manager:Employee)-[:REPORTS_TO]->(root)
                 WITH root, manager ORDER BY COUNT { (manager)<-[:REPORTS_TO]-() } DESC,
                      manager.id LIMIT 1
                 MATCH p = (e:Employee)-[:REPORTS_TO]->{1,64}(root)
                 WITH root, manager, e ORDER BY length(p) DESC, e.id LIMIT 50
                 WITH root, manager, collect(e.id) AS deep
                 MATCH (d:Department) WHERE NOT (d)-[:PART_OF]->()
                 WITH root, manager, deep, min(d.id) AS department
                 MATCH (dense:Department)
                 WITH root, manager, deep, department, dense
                 ORDER BY COUNT { (dense)<-[:MEMBER_OF]-() } DESC, dense.id LIMIT 1
                 RETURN root.id AS root, root.email AS root_email, manager.id AS manager, deep[0] AS deepest,
                        deep[size(deep) - 1] AS other, department, dense.id AS densest",
            ))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Samples {
            root: get(row, "root")?,
            root_email: get(row, "root_email")?,
            manager: get(row, "manager")?,
            deepest: get(row, "deepest")?,
            other: get(row, "other")?,
            department: get(row, "department")?,
            densest: get(row, "densest")?,
        }))
    }

    /// `(name, query)` of every named read query, with these ids.
    pub fn queries(&self) -> Vec<(&'static str, Query)> {
        let ids = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            (
                "employees_by_ids",
                query(cypher::EMPLOYEES_BY_IDS).param("ids", ids(&[&self.root, &self.manager])),
            ),
            (
                "employees_by_emails",
                query(cypher::EMPLOYEES_BY_EMAILS).param("emails", vec![self.root_email.clone()]),
            ),
            (
                "managers_of",
                query(cypher::MANAGERS_OF).param("ids", ids(&[&self.deepest, &self.other])),
            ),
            (
                "direct_reports_of",
                query(cypher::DIRECT_REPORTS_OF).param("ids", ids(&[&self.manager])),
            ),
            (
                "spans_of_control",
                query(cypher::SPANS_OF_CONTROL).param("ids", ids(&[&self.manager])),
            ),
            (
                "subordinates",
                query(&subordinates_query(Depth::UNLIMITED))
                    .param("id", self.manager.as_str())
                    .param("afterDepth", 0_i64)
                    .param("afterId", "")
                    .param("first", 100_i64),
            ),
            (
                "chain_of_command",
                query(cypher::CHAIN_OF_COMMAND).param("id", self.deepest.as_str()),
            ),
            (
                "lowest_common_manager",
                query(cypher::LOWEST_COMMON_MANAGER)
                    .param("a", self.deepest.as_str())
                    .param("b", self.other.as_str()),
            ),
            (
                "department_heads",
                query(cypher::DEPARTMENT_HEADS).param("ids", vec![self.densest.clone()]),
            ),
            (
                "department_tree",
                query(cypher::DEPARTMENT_TREE).param("id", self.department.as_str()),
            ),
            (
                "people_in_department",
                query(cypher::PEOPLE_IN_DEPARTMENT)
                    .param("id", self.department.as_str())
                    .param("after", "")
                    .param("first", 100_i64),
            ),
        ]
    }
}

/// Profiles one query: its rows, db hits and operators.
pub async fn profile(
    store: &Neo4jStore,
    name: &'static str,
    q: Query,
) -> Result<Profiled, StoreError> {
    let text = format!("PROFILE {}", q.query());
    let q = Query::new(text).with_params(q.get_params().clone());
    let mut txn = store
        .graph
        .start_txn_as(Operation::Read, store.bookmarks())
        .await
        .map_err(classify)?;
    let mut stream = txn.execute(q).await.map_err(classify)?;
    let mut rows = 0;
    while stream.next(txn.handle()).await.map_err(classify)?.is_some() {
        rows += 1;
    }
    let summary = stream.finish(txn.handle()).await.map_err(classify)?;
    txn.commit().await.map_err(classify)?;
    let operators = parse_profile(&format!("{summary:?}"));
    Ok(Profiled {
        name,
        rows,
        db_hits: operators.iter().map(|o| o.db_hits).sum(),
        operators,
    })
}

/// Profiles every named query and records db hits and rows on `/metrics`.
pub async fn profile_all(store: &Neo4jStore) -> Result<Vec<Profiled>, StoreError> {
    let Some(samples) = Samples::discover(store).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, q) in samples.queries() {
        let profiled = profile(store, name, q).await?;
        crate::metrics::DB_HITS
            .with_label_values(&[name])
            .set(profiled.db_hits);
        crate::metrics::ROWS
            .with_label_values(&[name])
            .set(profiled.rows as i64);
        out.push(profiled);
    }
    Ok(out)
}

/// The profiling task: every `every`, profile all named queries (errors are logged).
pub async fn run_every(store: Arc<Neo4jStore>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = profile_all(&store).await {
            tracing::warn!(error = %e, "profiling the org queries failed");
        }
    }
}

/// `polygate-org profile`: connects, seeds the demo org when the graph is empty, and prints
/// every query's plan; with `compare_indexes`, also without the org's constraints and indexes
/// (dropped, profiled, then restored by the migrations).
pub async fn print_all(url: &str, compare_indexes: bool) -> anyhow::Result<()> {
    let store = Neo4jStore::connect(&super::Neo4jSettings::local(url)).await?;
    if Samples::discover(&store).await?.is_none() {
        crate::store::OrgStore::import(&store, &crate::chart::demo()).await?;
    }
    println!("== with the org's constraints and indexes");
    for p in profile_all(&store).await? {
        println!("{}", p.render());
    }
    if compare_indexes {
        for name in [
            "employee_id",
            "employee_email",
            "department_id",
            "member_of_role",
        ] {
            let drop = if name == "member_of_role" {
                format!("DROP INDEX {name} IF EXISTS")
            } else {
                format!("DROP CONSTRAINT {name} IF EXISTS")
            };
            store.run_auto_commit(&drop).await?;
        }
        println!("== without them (label scans and relationship scans)");
        for p in profile_all(&store).await? {
            println!("{}", p.render());
        }
        store
            .run_auto_commit("MATCH (m:SchemaMigration) WHERE m.version IN [1, 2] DELETE m")
            .await?;
        super::migrate::run(&store).await?;
        println!("== constraints and indexes restored");
    }
    Ok(())
}

/// Reads the operators out of a result summary's `Debug` text (see the module doc).
pub fn parse_profile(debug: &str) -> Vec<Operator> {
    let Some(start) = debug.find("profile: Some(") else {
        return Vec::new();
    };
    let mut parser = Parser {
        text: &debug[start + "profile: Some(".len()..],
    };
    let mut out = Vec::new();
    if let Some(Value::Map(root)) = parser.value() {
        walk(&root, 0, &mut out);
    }
    out
}

fn walk(map: &[(String, Value)], depth: usize, out: &mut Vec<Operator>) {
    let field = |key: &str| map.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let int = |key: &str| match field(key) {
        Some(Value::Int(i)) => *i,
        _ => 0,
    };
    let name = match field("operatorType") {
        Some(Value::Str(s)) => s.trim_end_matches("@neo4j").to_owned(),
        _ => "?".to_owned(),
    };
    let details = match field("args") {
        Some(Value::Map(args)) => args
            .iter()
            .find(|(k, _)| k == "Details")
            .and_then(|(_, v)| match v {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    out.push(Operator {
        depth,
        name,
        rows: int("rows"),
        db_hits: int("dbHits"),
        details,
    });
    if let Some(Value::List(children)) = field("children") {
        for child in children {
            if let Value::Map(child) = child {
                walk(child, depth + 1, out);
            }
        }
    }
}

enum Value {
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    Other,
}

/// A reader for the `Debug` text of `neo4rs`'s Bolt values.
struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn skip(&mut self, ws: &str) {
        self.text = self.text.trim_start_matches(|c: char| ws.contains(c));
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip(" ,\n");
        match self.text.strip_prefix(token) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    fn string(&mut self) -> Option<String> {
        self.skip(" ,\n");
        let rest = self.text.strip_prefix('"')?;
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => {
                    self.text = &rest[i + 1..];
                    return Some(out);
                }
                c => out.push(c),
            }
        }
        None
    }

    /// A map body `{"k": v, …}`, the opening brace not yet read.
    fn map(&mut self) -> Option<Value> {
        if !self.eat("{") {
            return None;
        }
        let mut fields = Vec::new();
        while !self.eat("}") {
            let key = self.string()?;
            if !self.eat(":") {
                return None;
            }
            fields.push((key, self.value()?));
        }
        Some(Value::Map(fields))
    }

    fn value(&mut self) -> Option<Value> {
        self.skip(" ,\n");
        if self.text.starts_with('{') {
            return self.map();
        }
        let open = self.text.find('(')?;
        let kind = self.text[..open].to_owned();
        self.text = &self.text[open + 1..];
        let value = match kind.as_str() {
            "Dictionary" => self.map()?,
            "List" => {
                if !self.eat("[") {
                    return None;
                }
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.value()?);
                }
                Value::List(items)
            }
            "Integer" => {
                let end = self.text.find(')')?;
                let n = self.text[..end].trim().parse().ok()?;
                self.text = &self.text[end..];
                Value::Int(n)
            }
            "String" => Value::Str(self.string()?),
            _ => {
                // Anything else (Float, Boolean, Null): skip to its closing parenthesis.
                let end = self.text.find(')')?;
                self.text = &self.text[end..];
                Value::Other
            }
        };
        self.eat(")").then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_read_from_the_summary_debug_text() {
        let debug = r#"ResultSummary { bookmark: None, profile: Some({"dbHits": Integer(3), "operatorType": String("ProduceResults@neo4j"), "rows": Integer(2), "args": Dictionary({"Details": String("employee"), "Time": Float(1.5)}), "children": List([Dictionary({"children": List([]), "operatorType": String("NodeUniqueIndexSeek@neo4j"), "dbHits": Integer(4), "rows": Integer(2), "args": Dictionary({"Details": String("UNIQUE e:Employee(id) WHERE id = \"x\"")})})])}), notifications: [] }"#;
        let ops = parse_profile(debug);
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].name, "ProduceResults");
        assert_eq!((ops[0].rows, ops[0].db_hits, ops[0].depth), (2, 3, 0));
        assert_eq!(ops[1].name, "NodeUniqueIndexSeek");
        assert_eq!((ops[1].db_hits, ops[1].depth), (4, 1));
        assert_eq!(ops[1].details, "UNIQUE e:Employee(id) WHERE id = \"x\"");
    }
}
