//! The org traversal benchmark: the same four questions asked of Neo4j (the adapter's Cypher),
//! PostgreSQL (recursive CTEs over an adjacency list, `sql/org/postgres/`) and the embedded
//! SQLite adapter (path column and recursive CTEs), on one generated org, in alternating rounds,
//! each engine's answers checked against the others' before anything is timed.
//!
//! The questions: all subordinates (id and depth, every row) of a top-level manager and of a
//! mid-level manager, the chain of command of one of the deepest people, and the lowest common
//! manager of two of the deepest people in different top-level branches. Prints p50 and p99 per
//! question and engine, and each engine's p50 over Neo4j's.
//!
//! Arguments (all optional): `--people N` (100000), `--rounds R` (5), `--neo4j URL`
//! (bolt://127.0.0.1:57688, a dedicated server: the bench wipes it), `--postgres URL` (an admin
//! URL; the bench creates and drops a database of its own), `--endpoint URL` (a GraphQL endpoint
//! with this org loaded, e.g. `polygate-org serve` over the same Neo4j; also timed), `--seed S`.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use polygate_org::chart;
use polygate_org::domain::{Depth, EmployeeId, OrgChart};
use polygate_org::store::neo4j::Neo4jSettings;
use polygate_org::{Neo4jStore, OrgStore, SqliteStore};
use sqlx::{Connection as _, Executor as _, PgPool, Row as _};

struct Args {
    people: usize,
    rounds: usize,
    neo4j: String,
    postgres: String,
    endpoint: Option<String>,
    seed: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        people: 100_000,
        rounds: 5,
        neo4j: "bolt://127.0.0.1:57688".into(),
        postgres: "postgres://postgres@127.0.0.1:55432/postgres".into(),
        endpoint: None,
        seed: 7,
    };
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--people" => args.people = value()?.parse()?,
            "--rounds" => args.rounds = value()?.parse()?,
            "--neo4j" => args.neo4j = value()?,
            "--postgres" => args.postgres = value()?,
            "--endpoint" => args.endpoint = Some(value()?),
            "--seed" => args.seed = value()?.parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

/// The people the questions are about.
struct Samples {
    top: EmployeeId,
    top_team: usize,
    mid: EmployeeId,
    mid_team: usize,
    deepest: EmployeeId,
    other: EmployeeId,
    depth: u32,
}

fn samples(chart: &OrgChart) -> Samples {
    let mut depth: HashMap<&str, u32> = HashMap::new();
    let mut top_of: HashMap<&str, &str> = HashMap::new();
    for e in &chart.employees {
        let (d, top) = match &e.manager {
            None => (0, e.id.as_str()),
            Some(m) => {
                let d = depth[m.as_str()] + 1;
                (
                    d,
                    if d == 1 {
                        e.id.as_str()
                    } else {
                        top_of[m.as_str()]
                    },
                )
            }
        };
        depth.insert(e.id.as_str(), d);
        top_of.insert(e.id.as_str(), top);
    }
    let mut team: HashMap<&str, usize> = HashMap::new();
    for e in chart.employees.iter().rev() {
        let below = team.get(e.id.as_str()).copied().unwrap_or(0);
        if let Some(m) = &e.manager {
            *team.entry(m.as_str()).or_default() += below + 1;
        }
    }
    let size = |id: &str| team.get(id).copied().unwrap_or(0);
    let pick = |level: u32| {
        chart
            .employees
            .iter()
            .filter(|e| depth[e.id.as_str()] == level)
            .max_by_key(|e| (size(e.id.as_str()), std::cmp::Reverse(e.id.clone())))
            .expect("someone at that level")
            .id
            .clone()
    };
    let top = pick(1);
    let mid = pick(4);
    let max_depth = *depth.values().max().expect("people");
    let deepest: Vec<&str> = chart
        .employees
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| depth[id] == max_depth)
        .collect();
    let a = deepest[0];
    let b = chart
        .employees
        .iter()
        .map(|e| e.id.as_str())
        .rfind(|id| depth[id] + 1 >= max_depth && top_of[id] != top_of[a])
        .unwrap_or(deepest[deepest.len() - 1]);
    Samples {
        top_team: size(top.as_str()),
        mid_team: size(mid.as_str()),
        top,
        mid,
        deepest: EmployeeId::parse(a).expect("id"),
        other: EmployeeId::parse(b).expect("id"),
        depth: max_depth,
    }
}

fn progress(label: &str, done: usize, total: usize) {
    let width = 30;
    let filled = done * width / total.max(1);
    eprint!(
        "\r{label:<10} [{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    if done >= total {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
}

/// Loads `chart` through the port in twenty growing prefixes (each import adds what is
/// missing), for a progress bar.
async fn load(label: &str, store: &dyn OrgStore, chart: &OrgChart) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let total = chart.employees.len();
    let steps = 20;
    for step in 1..=steps {
        let upto = total * step / steps;
        let prefix = OrgChart {
            departments: chart.departments.clone(),
            employees: chart.employees[..upto].to_vec(),
        };
        store.import(&prefix).await?;
        progress(label, upto, total);
    }
    Ok(started.elapsed())
}

async fn load_postgres(pool: &PgPool, chart: &OrgChart) -> anyhow::Result<Duration> {
    let started = Instant::now();
    pool.execute(include_str!("../../../sql/org/postgres/bench_schema.sql"))
        .await?;
    for d in &chart.departments {
        sqlx::query("INSERT INTO org_departments (id, name, parent_id) VALUES ($1, $2, $3)")
            .bind(d.id.as_str())
            .bind(d.name.as_str())
            .bind(d.parent.as_ref().map(|p| p.as_str()))
            .execute(pool)
            .await?;
    }
    let total = chart.employees.len();
    let mut done = 0;
    for batch in chart.employees.chunks(5000) {
        let col = |f: &dyn Fn(&polygate_org::domain::EmployeeRecord) -> Option<String>| {
            batch.iter().map(f).collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO org_employees (id, email, name, title, manager_id, department_id, role)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::text[])",
        )
        .bind(col(&|e| Some(e.id.to_string())))
        .bind(col(&|e| Some(e.email.to_string())))
        .bind(col(&|e| Some(e.name.as_str().to_owned())))
        .bind(col(&|e| Some(e.title.as_str().to_owned())))
        .bind(col(&|e| e.manager.as_ref().map(|m| m.to_string())))
        .bind(col(&|e| Some(e.department.to_string())))
        .bind(col(&|e| Some(e.role.as_str().to_owned())))
        .execute(pool)
        .await?;
        done += batch.len();
        progress("postgres", done, total);
    }
    pool.execute("ANALYZE org_employees").await?;
    Ok(started.elapsed())
}

/// One engine's answers: (rows, and a fingerprint to compare engines by).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Team(Vec<(u32, String)>),
    People(Vec<String>),
}

enum Engine {
    Neo4j(Box<Neo4jStore>),
    Sqlite(SqliteStore),
    Postgres(PgPool),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Question {
    TopTeam,
    MidTeam,
    Chain,
    Lcm,
}

const QUESTIONS: [Question; 4] = [
    Question::TopTeam,
    Question::MidTeam,
    Question::Chain,
    Question::Lcm,
];

impl Question {
    fn label(self) -> &'static str {
        match self {
            Question::TopTeam => "subordinates of a top-level manager",
            Question::MidTeam => "subordinates of a mid-level manager",
            Question::Chain => "chain of command (deepest person)",
            Question::Lcm => "lowest common manager",
        }
    }
    /// Timed calls per engine per round: fewer for the heavy one.
    fn iterations(self) -> usize {
        match self {
            Question::TopTeam => 5,
            Question::MidTeam => 50,
            Question::Chain | Question::Lcm => 100,
        }
    }
}

impl Engine {
    fn name(&self) -> &'static str {
        match self {
            Engine::Neo4j(_) => "neo4j",
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }

    async fn ask(&self, q: Question, s: &Samples) -> anyhow::Result<Answer> {
        let port: Option<&dyn OrgStore> = match self {
            Engine::Neo4j(store) => Some(store.as_ref()),
            Engine::Sqlite(store) => Some(store),
            Engine::Postgres(_) => None,
        };
        if let Some(store) = port {
            return Ok(match q {
                Question::TopTeam | Question::MidTeam => {
                    let who = if q == Question::TopTeam {
                        &s.top
                    } else {
                        &s.mid
                    };
                    let rows = store
                        .subordinates(who, Depth::UNLIMITED, polygate_org::store::MAX_PAGE, None)
                        .await?;
                    Answer::Team(
                        rows.into_iter()
                            .map(|r| (r.depth, r.employee.id.to_string()))
                            .collect(),
                    )
                }
                Question::Chain => Answer::People(
                    store
                        .chain_of_command(&s.deepest)
                        .await?
                        .into_iter()
                        .map(|e| e.id.to_string())
                        .collect(),
                ),
                Question::Lcm => Answer::People(
                    store
                        .lowest_common_manager(&s.deepest, &s.other)
                        .await?
                        .into_iter()
                        .map(|e| e.id.to_string())
                        .collect(),
                ),
            });
        }
        let Engine::Postgres(pool) = self else {
            unreachable!()
        };
        Ok(match q {
            Question::TopTeam | Question::MidTeam => {
                let who = if q == Question::TopTeam {
                    &s.top
                } else {
                    &s.mid
                };
                let rows = sqlx::query(include_str!("../../../sql/org/postgres/subordinates.sql"))
                    .bind(who.as_str())
                    .bind(i32::try_from(Depth::MAX)?)
                    .bind(i64::from(polygate_org::store::MAX_PAGE))
                    .fetch_all(pool)
                    .await?;
                Answer::Team(
                    rows.iter()
                        .map(|r| (r.get::<i32, _>("depth") as u32, r.get::<String, _>("id")))
                        .collect(),
                )
            }
            Question::Chain => {
                let rows = sqlx::query(include_str!(
                    "../../../sql/org/postgres/chain_of_command.sql"
                ))
                .bind(s.deepest.as_str())
                .fetch_all(pool)
                .await?;
                Answer::People(rows.iter().map(|r| r.get::<String, _>("id")).collect())
            }
            Question::Lcm => {
                let rows = sqlx::query(include_str!(
                    "../../../sql/org/postgres/lowest_common_manager.sql"
                ))
                .bind(s.deepest.as_str())
                .bind(s.other.as_str())
                .fetch_all(pool)
                .await?;
                Answer::People(rows.iter().map(|r| r.get::<String, _>("id")).collect())
            }
        })
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn graphql(client: &reqwest::Client, endpoint: &str, query: &str) -> anyhow::Result<()> {
    let body: serde_json::Value = client
        .post(endpoint)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(body.get("errors").is_none(), "GraphQL errors: {body}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let generated = Instant::now();
    let chart = chart::generate(args.people, args.seed).ordered()?;
    let s = samples(&chart);
    println!(
        "org: {} people, {} departments, {} levels (generated in {:?}, seed {})",
        chart.employees.len(),
        chart.departments.len(),
        s.depth + 1,
        generated.elapsed(),
        args.seed
    );
    println!(
        "top-level manager {} ({} below), mid-level manager {} ({} below), deepest {} and {}",
        s.top, s.top_team, s.mid, s.mid_team, s.deepest, s.other
    );

    // Load every engine.
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("org_bench"));
    let sqlite = SqliteStore::open(&dir.join("org.db")).await?;
    let sqlite_load = load("sqlite", &sqlite, &chart).await?;
    let neo4j = Neo4jStore::connect(&Neo4jSettings::local(&args.neo4j))
        .await
        .with_context(|| format!("connect to {}", args.neo4j))?;
    neo4j.wipe().await?;
    let neo4j_load = load("neo4j", &neo4j, &chart).await?;
    let database = polygate_kit::testing::unique_name("org_bench");
    let mut admin = sqlx::PgConnection::connect(&args.postgres).await?;
    admin
        .execute(format!(r#"CREATE DATABASE "{database}""#).as_str())
        .await?;
    let pg_url = polygate_kit::testing::postgres::database_url(&args.postgres, &database);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&pg_url)
        .await?;
    let pg_load = load_postgres(&pool, &chart).await?;
    println!(
        "loaded in: sqlite {:.1} s, neo4j {:.1} s, postgres {:.1} s",
        sqlite_load.as_secs_f64(),
        neo4j_load.as_secs_f64(),
        pg_load.as_secs_f64()
    );
    let engines = vec![
        Engine::Neo4j(Box::new(neo4j)),
        Engine::Postgres(pool),
        Engine::Sqlite(sqlite),
    ];

    // Same answers everywhere (and warm caches) before timing anything.
    for q in QUESTIONS {
        let mut answers = Vec::new();
        for e in &engines {
            answers.push((e.name(), e.ask(q, &s).await?));
        }
        let rows = |a: &Answer| match a {
            Answer::Team(t) => t.len(),
            Answer::People(p) => p.len(),
        };
        for (name, answer) in &answers[1..] {
            anyhow::ensure!(
                *answer == answers[0].1,
                "{name} answers {:?} differently from neo4j",
                q
            );
        }
        println!(
            "{}: {} rows, the same on every engine",
            q.label(),
            rows(&answers[0].1)
        );
    }

    // Alternating rounds: the engine order rotates each round.
    let mut times: HashMap<(Question, &'static str), Vec<Duration>> = HashMap::new();
    for round in 0..args.rounds {
        for k in 0..engines.len() {
            let e = &engines[(round + k) % engines.len()];
            for q in QUESTIONS {
                for _ in 0..q.iterations() {
                    let started = Instant::now();
                    e.ask(q, &s).await?;
                    times
                        .entry((q, e.name()))
                        .or_default()
                        .push(started.elapsed());
                }
            }
        }
        progress("rounds", round + 1, args.rounds);
    }

    println!();
    println!("| question | engine | p50 | p99 | p50 / neo4j p50 |");
    println!("|---|---|---|---|---|");
    for q in QUESTIONS {
        let neo4j_p50 = {
            let mut t = times[&(q, "neo4j")].clone();
            t.sort();
            percentile(&t, 0.5)
        };
        for name in ["neo4j", "postgres", "sqlite"] {
            let mut t = times[&(q, name)].clone();
            t.sort();
            let p50 = percentile(&t, 0.5);
            println!(
                "| {} | {name} | {} | {} | {:.2} |",
                q.label(),
                ms(p50),
                ms(percentile(&t, 0.99)),
                p50.as_secs_f64() / neo4j_p50.as_secs_f64()
            );
        }
    }

    if let Some(endpoint) = &args.endpoint {
        let client = reqwest::Client::new();
        let queries = [
            (
                "GraphQL chainOfCommand",
                format!(
                    r#"{{ employee(id: "{}") {{ chainOfCommand {{ id name }} }} }}"#,
                    s.deepest
                ),
            ),
            (
                "GraphQL subordinates(first: 100)",
                format!(
                    r#"{{ employee(id: "{}") {{ subordinates(first: 100) {{ items {{ depth employee {{ id }} }} }} }} }}"#,
                    s.mid
                ),
            ),
        ];
        println!();
        for (label, query) in &queries {
            let mut t = Vec::new();
            for _ in 0..(50 * args.rounds) {
                let started = Instant::now();
                graphql(&client, endpoint, query).await?;
                t.push(started.elapsed());
            }
            t.sort();
            println!(
                "{label} at {endpoint}: p50 {} p99 {}",
                ms(percentile(&t, 0.5)),
                ms(percentile(&t, 0.99))
            );
        }
    }

    for e in engines {
        if let Engine::Postgres(pool) = e {
            pool.close().await;
        }
    }
    admin
        .execute(format!(r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#).as_str())
        .await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
