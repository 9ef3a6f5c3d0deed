//! Reads: batch look-ups, one-hop neighbours, and the traversals.

use super::TestOrg;
use crate::domain::{Depth, Email, EmployeeId, Span, SubordinateCursor};
use crate::store::OrgStore;

pub async fn import_is_idempotent_and_export_returns_the_chart(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    assert_eq!(
        store.import(&org.chart).await.unwrap(),
        0,
        "a second import adds nothing"
    );
    let exported = store.export().await.unwrap();
    for d in &org.chart.departments {
        assert!(exported.departments.contains(d), "{d:?} exported as loaded");
    }
    for e in &org.chart.employees {
        assert!(exported.employees.contains(e), "{e:?} exported as loaded");
    }
}

pub async fn batch_reads_return_exactly_what_exists(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let unknown = EmployeeId::parse("nobody-at-all").unwrap();
    let found = store
        .employees_by_ids(&[org.id("e1"), org.id("vp2"), unknown])
        .await
        .unwrap();
    let mut names = org.names(found.iter().map(|e| &e.id));
    names.sort();
    assert_eq!(names, ["e1", "vp2"]);
    let e1 = found.iter().find(|e| e.id == org.id("e1")).unwrap();
    assert_eq!(e1.department, org.dept("a1"));
    assert_eq!(e1.role, crate::domain::Role::Member);

    let email = Email::parse(&format!("{}@EXAMPLE.com", org.id("m1"))).unwrap();
    let by_email = store.employees_by_emails(&[email]).await.unwrap();
    assert_eq!(org.names(by_email.iter().map(|e| &e.id)), ["m1"]);

    let depts = store
        .departments_by_ids(&[org.dept("a1"), org.dept("root")])
        .await
        .unwrap();
    assert_eq!(depts.len(), 2);
    let a1 = depts.iter().find(|d| d.id == org.dept("a1")).unwrap();
    assert_eq!(a1.parent, Some(org.dept("a")));
    assert!(store.employees_by_ids(&[]).await.unwrap().is_empty());
}

pub async fn managers_and_reports_are_one_hop_away(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let mut managers = store
        .managers_of(&[org.id("e1"), org.id("e5"), org.id("ceo")])
        .await
        .unwrap();
    managers.sort_by(|a, b| a.0.cmp(&b.0));
    let pairs: Vec<(String, String)> = managers
        .iter()
        .map(|(of, m)| (org.names([of])[0].clone(), org.names([&m.id])[0].clone()))
        .collect();
    assert_eq!(
        pairs,
        [("e1".into(), "m1".into()), ("e5".into(), "e4".into())],
        "the root has no manager"
    );
    let reports = store
        .direct_reports_of(&[org.id("vp1"), org.id("e6")])
        .await
        .unwrap();
    assert!(reports.iter().all(|(of, _)| *of == org.id("vp1")));
    assert_eq!(org.names(reports.iter().map(|(_, e)| &e.id)), ["e3", "m1"]);
    let heads = store
        .department_heads(&[org.dept("root"), org.dept("a1"), org.dept("b")])
        .await
        .unwrap();
    let mut heads: Vec<(String, String)> = heads
        .iter()
        .map(|(d, e)| (d.to_string(), org.names([&e.id])[0].clone()))
        .collect();
    heads.sort();
    assert_eq!(
        heads,
        [
            (org.dept("a1").to_string(), "m1".into()),
            (org.dept("b").to_string(), "vp2".into()),
            (org.dept("root").to_string(), "ceo".into()),
        ]
    );
    let children = store.sub_departments_of(&[org.dept("root")]).await.unwrap();
    let ids: Vec<_> = children.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids, [org.dept("a"), org.dept("b")]);
}

pub async fn subordinates_carry_their_depth_and_page_without_gaps(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let all = store
        .subordinates(&org.id("ceo"), Depth::UNLIMITED, 100, None)
        .await
        .unwrap();
    let listed: Vec<(String, u32)> = all
        .iter()
        .map(|s| (org.names([&s.employee.id])[0].clone(), s.depth))
        .collect();
    let expected: Vec<(String, u32)> = [
        ("vp1", 1),
        ("vp2", 1),
        ("e3", 2),
        ("e4", 2),
        ("m1", 2),
        ("e1", 3),
        ("e2", 3),
        ("e5", 3),
        ("e6", 4),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    assert_eq!(listed, expected, "by depth, then id");

    let two_levels = store
        .subordinates(&org.id("ceo"), Depth::new(2).unwrap(), 100, None)
        .await
        .unwrap();
    assert_eq!(two_levels.len(), 5);
    assert!(two_levels.iter().all(|s| s.depth <= 2));

    let mut paged = Vec::new();
    let mut after: Option<SubordinateCursor> = None;
    for _ in 0..10 {
        let page = store
            .subordinates(&org.id("ceo"), Depth::UNLIMITED, 2, after.as_ref())
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(SubordinateCursor::after);
        paged.extend(page);
    }
    assert_eq!(paged, all, "pages of two add up to the whole list");

    let leaf = store
        .subordinates(&org.id("e6"), Depth::UNLIMITED, 100, None)
        .await
        .unwrap();
    assert!(leaf.is_empty());
    let nobody = EmployeeId::parse("nobody-at-all").unwrap();
    assert!(
        store
            .subordinates(&nobody, Depth::UNLIMITED, 100, None)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn chain_of_command_runs_up_to_the_root(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let chain = store.chain_of_command(&org.id("e6")).await.unwrap();
    assert_eq!(
        org.names(chain.iter().map(|e| &e.id)),
        ["e5", "e4", "vp2", "ceo"]
    );
    assert!(
        store
            .chain_of_command(&org.id("ceo"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn lowest_common_manager_is_the_deepest_shared_manager(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let lcm = |a: &str, b: &str| {
        let (a, b) = (org.id(a), org.id(b));
        async move {
            store
                .lowest_common_manager(&a, &b)
                .await
                .unwrap()
                .map(|e| e.id)
        }
    };
    assert_eq!(lcm("e1", "e2").await, Some(org.id("m1")));
    assert_eq!(lcm("e1", "e3").await, Some(org.id("vp1")));
    assert_eq!(lcm("e1", "e6").await, Some(org.id("ceo")));
    assert_eq!(lcm("e6", "e1").await, Some(org.id("ceo")), "symmetric");
    assert_eq!(
        lcm("m1", "e1").await,
        Some(org.id("vp1")),
        "never one of the two themselves"
    );
    assert_eq!(lcm("ceo", "e1").await, None, "nobody manages the root");
    let nobody = EmployeeId::parse("nobody-at-all").unwrap();
    assert_eq!(
        store
            .lowest_common_manager(&nobody, &org.id("e1"))
            .await
            .unwrap(),
        None
    );
}

pub async fn span_of_control_counts_direct_and_total_reports(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let mut spans = store
        .spans_of_control(&[org.id("ceo"), org.id("vp2"), org.id("e6")])
        .await
        .unwrap();
    spans.sort_by(|a, b| a.0.cmp(&b.0));
    let get = |n: &str| spans.iter().find(|(id, _)| *id == org.id(n)).unwrap().1;
    assert_eq!(
        get("ceo"),
        Span {
            direct: 2,
            total: 9
        }
    );
    assert_eq!(
        get("vp2"),
        Span {
            direct: 1,
            total: 3
        }
    );
    assert_eq!(
        get("e6"),
        Span {
            direct: 0,
            total: 0
        }
    );
}

pub async fn department_tree_counts_members_and_rolls_up_totals(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let tree = store.department_tree(&org.dept("root")).await.unwrap();
    let rows: Vec<(String, u32, u64, u64)> = tree
        .iter()
        .map(|r| {
            (
                r.department.id.to_string(),
                r.depth,
                r.head_count,
                r.total_head_count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (org.dept("root").to_string(), 0, 1, 10),
            (org.dept("a").to_string(), 1, 2, 5),
            (org.dept("b").to_string(), 1, 4, 4),
            (org.dept("a1").to_string(), 2, 3, 3),
        ]
    );
    let sub = store.department_tree(&org.dept("a")).await.unwrap();
    assert_eq!(sub.len(), 2);
    assert_eq!(sub[0].depth, 0);
    let unknown = crate::domain::DepartmentId::parse("no-such-department").unwrap();
    assert!(store.department_tree(&unknown).await.unwrap().is_empty());
}

pub async fn people_in_a_department_subtree_page_by_id(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let everyone = store
        .people_in_department(&org.dept("a"), 100, None)
        .await
        .unwrap();
    assert_eq!(
        org.names(everyone.iter().map(|e| &e.id)),
        ["e1", "e2", "e3", "m1", "vp1"]
    );
    let first = store
        .people_in_department(&org.dept("a"), 2, None)
        .await
        .unwrap();
    let rest = store
        .people_in_department(&org.dept("a"), 100, Some(&first[1].id))
        .await
        .unwrap();
    assert_eq!(org.names(first.iter().map(|e| &e.id)), ["e1", "e2"]);
    assert_eq!(org.names(rest.iter().map(|e| &e.id)), ["e3", "m1", "vp1"]);
}

pub async fn ping_succeeds(store: &dyn OrgStore) {
    store.ping().await.unwrap();
    assert!(["neo4j", "sqlite"].contains(&store.engine()));
}
