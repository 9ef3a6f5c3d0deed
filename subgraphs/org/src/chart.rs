//! Org charts this crate makes: the demo org (seeded on first start) and generated orgs of any
//! size for the benchmark.
//!
//! The demo org: 200 people in the six departments every subgraph knows (`company`, with
//! `engineering`, `sales` and `support` under it, and `platform` and `data` under engineering),
//! Alice at the top. Its e-mails are commerce's demo users (`alice@`, `bob@`, `user001@` …
//! `user060@example.com`) plus `person061@` … `person198@example.com`, so
//! `me { employee { manager { name } } }` works for every demo user. The generated org is a
//! breadth-first tree with a fan-out of 2 to 7 per manager, so 100 k people are 9 levels
//! deep, and a department per manager of the first two levels below the top.

use chrono::NaiveDate;

use crate::domain::{
    DepartmentId, DepartmentName, DepartmentRecord, Email, EmployeeId, EmployeeRecord, OrgChart,
    PersonName, Role, Title,
};

/// The day every demo and generated line starts; fixed, so seeds and benchmarks are the same on
/// any day they run.
pub fn founding_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 6).expect("a valid date")
}

/// Everyone in the demo org.
pub const DEMO_PEOPLE: usize = 200;

fn department(id: &str, name: &str, parent: Option<&str>) -> DepartmentRecord {
    DepartmentRecord {
        id: DepartmentId::parse(id).expect("a valid demo id"),
        name: DepartmentName::parse(name).expect("a valid demo name"),
        parent: parent.map(|p| DepartmentId::parse(p).expect("a valid demo id")),
    }
}

fn person(
    id: &str,
    name: &str,
    title: &str,
    department: &str,
    role: Role,
    manager: Option<&str>,
) -> EmployeeRecord {
    EmployeeRecord {
        id: EmployeeId::parse(id).expect("a valid id"),
        name: PersonName::parse(name).expect("a valid name"),
        email: Email::parse(&format!("{id}@example.com")).expect("a valid e-mail"),
        title: Title::parse(title).expect("a valid title"),
        department: DepartmentId::parse(department).expect("a valid id"),
        role,
        manager: manager.map(|m| EmployeeId::parse(m).expect("a valid id")),
        reports_since: founding_day(),
        member_since: founding_day(),
    }
}

/// The demo org: 200 people, 6 departments, five levels.
pub fn demo() -> OrgChart {
    let departments = vec![
        department("company", "Company", None),
        department("engineering", "Engineering", Some("company")),
        department("sales", "Sales", Some("company")),
        department("support", "Support", Some("company")),
        department("platform", "Platform", Some("engineering")),
        department("data", "Data", Some("engineering")),
    ];
    let numbered = |n: usize| {
        if n <= 60 {
            (format!("user{n:03}"), format!("User {n:03}"))
        } else {
            (format!("person{n:03}"), format!("Person {n:03}"))
        }
    };
    let mut employees = vec![
        person(
            "alice",
            "Alice Admin",
            "Chief executive",
            "company",
            Role::Head,
            None,
        ),
        person(
            "bob",
            "Bob Buyer",
            "VP engineering",
            "engineering",
            Role::Head,
            Some("alice"),
        ),
    ];
    // (id, title, department, manager) of the department heads below alice and bob.
    let heads = [
        (1, "VP sales", "sales", "alice"),
        (2, "VP support", "support", "alice"),
        (3, "Head of platform", "platform", "bob"),
        (4, "Head of data", "data", "bob"),
    ];
    for (n, title, dept, manager) in heads {
        let (id, name) = numbered(n);
        employees.push(person(&id, &name, title, dept, Role::Head, Some(manager)));
    }
    // Team leads: (first number, how many, department, their head).
    let leads = [
        (5, 4, "platform", 3),
        (9, 3, "data", 4),
        (12, 4, "sales", 1),
        (16, 3, "support", 2),
    ];
    let mut teams = Vec::new();
    for (first, count, dept, head) in leads {
        for n in first..first + count {
            let (id, name) = numbered(n);
            let (head_id, _) = numbered(head);
            employees.push(person(
                &id,
                &name,
                "Team lead",
                dept,
                Role::Member,
                Some(&head_id),
            ));
            teams.push((id, dept));
        }
    }
    // Everyone else joins the teams in turn.
    let title = |dept: &str| match dept {
        "platform" | "data" => "Engineer",
        "sales" => "Account executive",
        _ => "Support specialist",
    };
    for (i, n) in (19..=DEMO_PEOPLE - 2).enumerate() {
        let (lead, dept) = &teams[i % teams.len()];
        let (id, name) = numbered(n);
        employees.push(person(
            &id,
            &name,
            title(dept),
            dept,
            Role::Member,
            Some(lead),
        ));
    }
    OrgChart {
        departments,
        employees,
    }
}

/// A generated org of `people` people (at least 1): breadth-first, a fan-out of 2 to 7 per
/// manager drawn from `seed`, ids `p000000`…, e-mails `p000000@bench.example.com`.
pub fn generate(people: usize, seed: u64) -> OrgChart {
    let mut random = seed | 1;
    let mut next = move |range: u64| {
        // xorshift64*: deterministic, no dependency, good enough for fan-outs.
        random ^= random >> 12;
        random ^= random << 25;
        random ^= random >> 27;
        random.wrapping_mul(0x2545_f491_4f6c_dd1d) % range
    };
    let id = |n: usize| format!("p{n:06}");
    let mut departments = vec![department("root", "Company", None)];
    let mut employees = Vec::with_capacity(people);
    // (employee number, depth, department id) of people waiting for reports, in BFS order.
    let mut queue = std::collections::VecDeque::from([(0usize, 0u32, "root".to_owned())]);
    let record = |n: usize, depth: u32, dept: &str, role: Role, manager: Option<usize>| {
        let mut e = person(
            &id(n),
            &format!("Person {n}"),
            if depth < 3 { "Director" } else { "Engineer" },
            dept,
            role,
            manager.map(id).as_deref(),
        );
        e.email = Email::parse(&format!("{}@bench.example.com", id(n))).expect("valid");
        e
    };
    employees.push(record(0, 0, "root", Role::Head, None));
    while employees.len() < people {
        let Some((manager, depth, dept)) = queue.pop_front() else {
            break;
        };
        let fan_out = 2 + next(6) as usize;
        for _ in 0..fan_out {
            if employees.len() >= people {
                break;
            }
            let n = employees.len();
            // The first two levels below the top each head a department of their own.
            let (dept_of_report, role) = if depth < 2 {
                let d = format!("d{n:06}");
                departments.push(department(&d, &format!("Department {n}"), Some(&dept)));
                (d, Role::Head)
            } else {
                (dept.clone(), Role::Member)
            };
            employees.push(record(n, depth + 1, &dept_of_report, role, Some(manager)));
            queue.push_back((n, depth + 1, dept_of_report));
        }
    }
    OrgChart {
        departments,
        employees,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn depths(chart: &OrgChart) -> HashMap<String, u32> {
        let mut depth = HashMap::new();
        for e in &chart.employees {
            let d = e.manager.as_ref().map_or(0, |m| depth[m.as_str()] + 1);
            depth.insert(e.id.as_str().to_owned(), d);
        }
        depth
    }

    #[test]
    fn the_demo_org_has_two_hundred_people_in_six_departments_with_alice_on_top() {
        let chart = demo().ordered().expect("a valid chart");
        assert_eq!(chart.employees.len(), DEMO_PEOPLE);
        assert_eq!(chart.departments.len(), 6);
        let roots: Vec<_> = chart
            .employees
            .iter()
            .filter(|e| e.manager.is_none())
            .collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].email.as_str(), "alice@example.com");
        for email in [
            "bob@example.com",
            "user001@example.com",
            "user060@example.com",
        ] {
            assert!(
                chart.employees.iter().any(|e| e.email.as_str() == email),
                "{email}"
            );
        }
        let heads = chart
            .employees
            .iter()
            .filter(|e| e.role == Role::Head)
            .count();
        assert_eq!(heads, 6, "one head per department");
        assert_eq!(depths(&chart).values().max(), Some(&4));
    }

    #[test]
    fn a_generated_org_of_100k_is_at_least_eight_levels_deep() {
        let chart = generate(100_000, 7).ordered().expect("a valid chart");
        assert_eq!(chart.employees.len(), 100_000);
        let deepest = *depths(&chart).values().max().unwrap();
        assert!(deepest >= 8, "depth {deepest}");
        assert!(chart.departments.len() > 10);
        assert_eq!(generate(1000, 7), generate(1000, 7), "deterministic");
    }
}
