//! Reorganisations: what each move does, what each refuses, and what concurrency leaves.

use super::{TestOrg, reorg_day};
use crate::domain::{DepartmentId, Depth, EmployeeId, Reorg};
use crate::store::{OrgStore, StoreError};

fn move_team(org: &TestOrg, who: &str, under: &str) -> Reorg {
    Reorg::MoveTeam {
        manager: org.id(who),
        new_manager: org.id(under),
    }
}

fn move_alone(org: &TestOrg, who: &str, under: &str) -> Reorg {
    Reorg::MoveEmployee {
        employee: org.id(who),
        new_manager: org.id(under),
    }
}

async fn chain(store: &dyn OrgStore, org: &TestOrg, who: &str) -> Vec<String> {
    let chain = store.chain_of_command(&org.id(who)).await.unwrap();
    org.names(chain.iter().map(|e| &e.id))
}

/// Applies `change` with the current version as the expected one, retrying when another check
/// sharing the database bumped the version in between.
async fn reorganise_at_current(
    store: &dyn OrgStore,
    change: &Reorg,
) -> crate::domain::ReorgOutcome {
    for _ in 0..50 {
        let version = store.org_version().await.unwrap();
        match store.reorganise(change, Some(version), reorg_day()).await {
            Err(StoreError::Conflict(_)) => continue,
            other => return other.unwrap(),
        }
    }
    panic!("the version kept moving under {change:?}");
}

pub async fn moving_a_team_takes_everyone_below_along(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let change = move_team(&org, "m1", "vp2");
    let outcome = reorganise_at_current(store, &change).await;
    assert!(outcome.changed);
    assert_eq!(chain(store, &org, "e1").await, ["m1", "vp2", "ceo"]);
    let below_vp2 = store
        .subordinates(&org.id("vp2"), Depth::UNLIMITED, 100, None)
        .await
        .unwrap();
    let listed: Vec<(String, u32)> = below_vp2
        .iter()
        .map(|s| (org.names([&s.employee.id])[0].clone(), s.depth))
        .collect();
    assert_eq!(
        listed,
        [
            ("e4".to_string(), 1),
            ("m1".to_string(), 1),
            ("e1".to_string(), 2),
            ("e2".to_string(), 2),
            ("e5".to_string(), 2),
            ("e6".to_string(), 3),
        ]
    );
    let reports = store.direct_reports_of(&[org.id("vp1")]).await.unwrap();
    assert_eq!(org.names(reports.iter().map(|(_, e)| &e.id)), ["e3"]);

    // The same request again (a retry) changes nothing and says so.
    let again = store.reorganise(&change, None, reorg_day()).await.unwrap();
    assert!(!again.changed);
    assert!(again.version >= outcome.version);
    assert_eq!(chain(store, &org, "e1").await, ["m1", "vp2", "ceo"]);
}

pub async fn moving_an_employee_alone_leaves_their_reports_behind(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let outcome = store
        .reorganise(&move_alone(&org, "e4", "vp1"), None, reorg_day())
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(chain(store, &org, "e4").await, ["vp1", "ceo"]);
    assert_eq!(
        chain(store, &org, "e6").await,
        ["e5", "vp2", "ceo"],
        "e4's report now reports to e4's old manager"
    );
    assert!(
        store
            .direct_reports_of(&[org.id("e4")])
            .await
            .unwrap()
            .is_empty()
    );
    let span = store.spans_of_control(&[org.id("vp2")]).await.unwrap();
    assert_eq!((span[0].1.direct, span[0].1.total), (1, 2));
    let exported = store.export().await.unwrap();
    let e5 = exported
        .employees
        .iter()
        .find(|e| e.id == org.id("e5"))
        .unwrap();
    assert_eq!(
        e5.reports_since,
        reorg_day(),
        "the new line is dated by the given day"
    );
}

pub async fn a_move_that_would_make_a_cycle_is_refused_and_changes_nothing(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let before = store.org_version().await.unwrap();
    for change in [
        move_team(&org, "vp1", "e1"),
        move_alone(&org, "vp1", "m1"),
        move_team(&org, "e4", "e4"),
        move_team(&org, "ceo", "e6"),
    ] {
        match store.reorganise(&change, None, reorg_day()).await {
            Err(StoreError::Refused(why)) => assert!(why.contains("cycle"), "{why}"),
            other => panic!("{change:?} gave {other:?}"),
        }
    }
    assert_eq!(chain(store, &org, "e1").await, ["m1", "vp1", "ceo"]);
    assert_eq!(chain(store, &org, "vp1").await, ["ceo"]);
    assert!(store.org_version().await.unwrap() >= before);
}

pub async fn merging_departments_moves_members_and_sub_departments(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let merge = Reorg::MergeDepartments {
        from: org.dept("a"),
        into: org.dept("b"),
    };
    assert!(reorganise_at_current(store, &merge).await.changed);
    assert!(
        store
            .departments_by_ids(&[org.dept("a")])
            .await
            .unwrap()
            .is_empty(),
        "the merged department is gone"
    );
    let tree = store.department_tree(&org.dept("root")).await.unwrap();
    let rows: Vec<(String, u64, u64)> = tree
        .iter()
        .map(|r| {
            (
                r.department.id.to_string(),
                r.head_count,
                r.total_head_count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (org.dept("root").to_string(), 1, 10),
            (org.dept("b").to_string(), 6, 9),
            (org.dept("a1").to_string(), 3, 3),
        ]
    );
    let heads = store.department_heads(&[org.dept("b")]).await.unwrap();
    assert_eq!(
        org.names(heads.iter().map(|(_, e)| &e.id)),
        ["vp2"],
        "one head stays"
    );
    let vp1 = store.employees_by_ids(&[org.id("vp1")]).await.unwrap();
    assert_eq!(vp1[0].role, crate::domain::Role::Member);
    assert_eq!(vp1[0].department, org.dept("b"));
    assert_eq!(
        chain(store, &org, "e1").await,
        ["m1", "vp1", "ceo"],
        "reporting lines stay"
    );

    let again = store.reorganise(&merge, None, reorg_day()).await.unwrap();
    assert!(!again.changed, "a retried merge is already done");
}

pub async fn merging_a_department_into_its_own_subtree_is_refused(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    for (from, into) in [("root", "a1"), ("a", "a1"), ("b", "b")] {
        let merge = Reorg::MergeDepartments {
            from: org.dept(from),
            into: org.dept(into),
        };
        match store.reorganise(&merge, None, reorg_day()).await {
            Err(StoreError::Refused(_)) => {}
            other => panic!("merging {from} into {into} gave {other:?}"),
        }
    }
    assert_eq!(
        store
            .department_tree(&org.dept("root"))
            .await
            .unwrap()
            .len(),
        4
    );
}

pub async fn unknown_people_and_departments_are_not_found(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let nobody = EmployeeId::parse("nobody-at-all").unwrap();
    let nowhere = DepartmentId::parse("nowhere-at-all").unwrap();
    for change in [
        Reorg::MoveTeam {
            manager: nobody.clone(),
            new_manager: org.id("ceo"),
        },
        Reorg::MoveEmployee {
            employee: org.id("e1"),
            new_manager: nobody,
        },
        Reorg::MergeDepartments {
            from: nowhere.clone(),
            into: org.dept("a"),
        },
        Reorg::MergeDepartments {
            from: org.dept("a"),
            into: nowhere,
        },
    ] {
        match store.reorganise(&change, None, reorg_day()).await {
            Err(StoreError::NotFound(_)) => {}
            other => panic!("{change:?} gave {other:?}"),
        }
    }
}

pub async fn a_stale_expected_version_is_a_conflict_and_changes_nothing(store: &dyn OrgStore) {
    let org = TestOrg::loaded(store).await;
    let current = store.org_version().await.unwrap();
    let stale = current + 1_000_000;
    match store
        .reorganise(&move_team(&org, "e3", "vp2"), Some(stale), reorg_day())
        .await
    {
        Err(StoreError::Conflict(why)) => assert!(why.contains("version"), "{why}"),
        other => panic!("a stale version gave {other:?}"),
    }
    assert_eq!(chain(store, &org, "e3").await, ["vp1", "ceo"]);
    // A change already in effect is no conflict, whatever the version said.
    let noop = store
        .reorganise(&move_team(&org, "e3", "vp1"), Some(stale), reorg_day())
        .await
        .unwrap();
    assert!(!noop.changed);
}

pub async fn two_opposite_moves_at_once_leave_a_tree(store: &dyn OrgStore) {
    for round in 0..5 {
        let org = TestOrg::loaded(store).await;
        let version = store.org_version().await.unwrap();
        // Odd rounds race without an expected version: the loser sees the cycle.
        let expected = (round % 2 == 0).then_some(version);
        let one = move_team(&org, "vp1", "vp2");
        let other = move_team(&org, "vp2", "vp1");
        let (a, b) = tokio::join!(
            store.reorganise(&one, expected, reorg_day()),
            store.reorganise(&other, expected, reorg_day()),
        );
        let succeeded = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert!(
            succeeded <= 1,
            "round {round}: both opposite moves applied: {a:?} {b:?}"
        );
        for result in [&a, &b] {
            if let Err(e) = result {
                assert!(
                    matches!(e, StoreError::Conflict(_) | StoreError::Refused(_)),
                    "round {round}: {e:?}"
                );
            }
        }
        if expected.is_none() {
            assert_eq!(succeeded, 1, "round {round}: one move wins: {a:?} {b:?}");
        }
        // Whatever happened, both still reach the root: no cycle.
        for who in ["vp1", "vp2", "e1", "e6"] {
            let chain = chain(store, &org, who).await;
            assert_eq!(
                chain.last().map(String::as_str),
                Some("ceo"),
                "round {round}: {who}"
            );
            assert!(chain.len() <= 5);
        }
    }
}
