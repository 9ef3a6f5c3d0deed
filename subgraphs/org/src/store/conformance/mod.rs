//! Behaviour every [`OrgStore`] adapter must show, as plain async checks that panic on failure.
//! The adapters' integration tests run each check against a fresh store (SQLite) or a shared
//! server (Neo4j), and all of them one after another on one store ([`run_all`]).
//!
//! Non-obvious: compiled into the library (not `#[cfg(test)]`) so the integration tests in
//! `tests/` can call it. Each check builds its own small org ([`TestOrg`]) whose ids carry a
//! unique prefix, so checks may share one database (Neo4j Community has only one); and since
//! the org version is one counter per database, checks that pass an expected version retry on
//! a conflict another check caused. One file per area: `reads` and `reorg`.

mod reads;
mod reorg;

use chrono::NaiveDate;
use polygate_kit::testing::unique_name;

use super::OrgStore;
use crate::domain::{
    DepartmentId, DepartmentName, DepartmentRecord, Email, EmployeeId, EmployeeRecord, OrgChart,
    PersonName, Role, Title,
};

pub use reads::{
    batch_reads_return_exactly_what_exists, chain_of_command_runs_up_to_the_root,
    department_tree_counts_members_and_rolls_up_totals,
    import_is_idempotent_and_export_returns_the_chart,
    lowest_common_manager_is_the_deepest_shared_manager, managers_and_reports_are_one_hop_away,
    people_in_a_department_subtree_page_by_id, ping_succeeds,
    span_of_control_counts_direct_and_total_reports,
    subordinates_carry_their_depth_and_page_without_gaps,
};
pub use reorg::{
    a_move_that_would_make_a_cycle_is_refused_and_changes_nothing,
    a_stale_expected_version_is_a_conflict_and_changes_nothing,
    merging_a_department_into_its_own_subtree_is_refused,
    merging_departments_moves_members_and_sub_departments,
    moving_a_team_takes_everyone_below_along, moving_an_employee_alone_leaves_their_reports_behind,
    two_opposite_moves_at_once_leave_a_tree, unknown_people_and_departments_are_not_found,
};

/// Calls `$callback!` with the name of every check, so each adapter's test file turns the same
/// list into one test per check and none can be forgotten.
#[macro_export]
macro_rules! org_store_checks {
    ($callback:ident) => {
        $callback!(
            import_is_idempotent_and_export_returns_the_chart,
            batch_reads_return_exactly_what_exists,
            managers_and_reports_are_one_hop_away,
            subordinates_carry_their_depth_and_page_without_gaps,
            chain_of_command_runs_up_to_the_root,
            lowest_common_manager_is_the_deepest_shared_manager,
            span_of_control_counts_direct_and_total_reports,
            department_tree_counts_members_and_rolls_up_totals,
            people_in_a_department_subtree_page_by_id,
            moving_a_team_takes_everyone_below_along,
            moving_an_employee_alone_leaves_their_reports_behind,
            a_move_that_would_make_a_cycle_is_refused_and_changes_nothing,
            merging_departments_moves_members_and_sub_departments,
            merging_a_department_into_its_own_subtree_is_refused,
            unknown_people_and_departments_are_not_found,
            a_stale_expected_version_is_a_conflict_and_changes_nothing,
            two_opposite_moves_at_once_leave_a_tree,
            ping_succeeds,
        );
    };
}

/// Every check, one after another, on one store.
pub async fn run_all(store: &dyn OrgStore) {
    macro_rules! in_turn {
        ($($check:ident),* $(,)?) => { $( $check(store).await; )* };
    }
    org_store_checks!(in_turn);
}

/// The day reorganisations in the checks are dated.
pub fn reorg_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 15).expect("a valid date")
}

/// A small org of ten people in four departments, ids prefixed so checks never collide:
///
/// ```text
/// root:  ceo (head)
///        ├─ a:  vp1 (head) ─┬─ a1: m1 (head) ─┬─ e1
///        │                  │                 └─ e2
///        │                  └─ e3 (a)
///        └─ b:  vp2 (head) ── e4 ── e5 ── e6   (all in b)
/// ```
pub struct TestOrg {
    prefix: String,
    pub chart: OrgChart,
}

impl TestOrg {
    pub fn new() -> Self {
        let prefix = unique_name("o");
        let d = |n: &str| DepartmentId::parse(&format!("{prefix}-{n}")).expect("valid id");
        let dept = |n: &str, parent: Option<&str>| DepartmentRecord {
            id: d(n),
            name: DepartmentName::parse(&format!("Department {n}")).expect("valid name"),
            parent: parent.map(d),
        };
        let day = NaiveDate::from_ymd_opt(2021, 2, 1).expect("a valid date");
        let person = |n: &str, dept: &str, role: Role, manager: Option<&str>| EmployeeRecord {
            id: EmployeeId::parse(&format!("{prefix}-{n}")).expect("valid id"),
            name: PersonName::parse(&format!("Person {n}")).expect("valid name"),
            email: Email::parse(&format!("{prefix}-{n}@example.com")).expect("valid e-mail"),
            title: Title::parse("Engineer").expect("valid title"),
            department: d(dept),
            role,
            manager: manager.map(|m| EmployeeId::parse(&format!("{prefix}-{m}")).expect("id")),
            reports_since: day,
            member_since: day,
        };
        let chart = OrgChart {
            departments: vec![
                dept("root", None),
                dept("a", Some("root")),
                dept("b", Some("root")),
                dept("a1", Some("a")),
            ],
            employees: vec![
                person("ceo", "root", Role::Head, None),
                person("vp1", "a", Role::Head, Some("ceo")),
                person("vp2", "b", Role::Head, Some("ceo")),
                person("m1", "a1", Role::Head, Some("vp1")),
                person("e1", "a1", Role::Member, Some("m1")),
                person("e2", "a1", Role::Member, Some("m1")),
                person("e3", "a", Role::Member, Some("vp1")),
                person("e4", "b", Role::Member, Some("vp2")),
                person("e5", "b", Role::Member, Some("e4")),
                person("e6", "b", Role::Member, Some("e5")),
            ],
        };
        Self { prefix, chart }
    }

    /// A new org, loaded into `store`.
    pub async fn loaded(store: &dyn OrgStore) -> Self {
        let org = Self::new();
        let added = store.import(&org.chart).await.expect("import the test org");
        assert_eq!(added, 14, "four departments and ten people added");
        org
    }

    /// The id of person `n` of this org.
    pub fn id(&self, n: &str) -> EmployeeId {
        EmployeeId::parse(&format!("{}-{n}", self.prefix)).expect("valid id")
    }

    /// The id of department `n` of this org.
    pub fn dept(&self, n: &str) -> DepartmentId {
        DepartmentId::parse(&format!("{}-{n}", self.prefix)).expect("valid id")
    }

    /// The short names (`e1`, `vp2`, …) of `ids`, in their order.
    pub fn names<'a>(&self, ids: impl IntoIterator<Item = &'a EmployeeId>) -> Vec<String> {
        ids.into_iter()
            .map(|id| {
                id.as_str()
                    .strip_prefix(&format!("{}-", self.prefix))
                    .unwrap_or(id.as_str())
                    .to_owned()
            })
            .collect()
    }
}

impl Default for TestOrg {
    fn default() -> Self {
        Self::new()
    }
}
