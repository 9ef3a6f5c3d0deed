//! The named Cypher queries of `cypher/org/queries/`, compiled in: one file per query, so each
//! can be pasted into the Neo4j browser and profiled (`polygate-org profile`). A file may hold
//! several statements separated by `;` at a line end, run in order in one transaction.

/// One `pub const NAME: &str` per query file, its text compiled in.
macro_rules! cypher {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(
            pub const $name: &str = include_str!(concat!("../../../../../cypher/org/queries/", $file, ".cypher"));
        )*
    };
}

cypher! {
    CHAIN_OF_COMMAND => "chain_of_command",
    DEPARTMENT_HEADS => "department_heads",
    DEPARTMENT_TREE => "department_tree",
    DEPARTMENTS_BY_IDS => "departments_by_ids",
    DIRECT_REPORTS_OF => "direct_reports_of",
    EMPLOYEES_BY_EMAILS => "employees_by_emails",
    EMPLOYEES_BY_IDS => "employees_by_ids",
    EXISTING_IDS => "existing_ids",
    EXPORT_DEPARTMENTS => "export_departments",
    EXPORT_EMPLOYEES => "export_employees",
    IMPORT_DEPARTMENTS => "import_departments",
    IMPORT_EMPLOYEES => "import_employees",
    LOWEST_COMMON_MANAGER => "lowest_common_manager",
    MANAGERS_OF => "managers_of",
    ORG_VERSION => "org_version",
    PEOPLE_IN_DEPARTMENT => "people_in_department",
    REORG_CHECK_MERGE => "reorg_check_merge",
    REORG_CHECK_MOVE => "reorg_check_move",
    REORG_FINISH => "reorg_finish",
    REORG_LOCK => "reorg_lock",
    REORG_MERGE => "reorg_merge",
    REORG_MOVE => "reorg_move",
    REORG_REPORTS_UP => "reorg_reports_up",
    SPANS_OF_CONTROL => "spans_of_control",
    SUB_DEPARTMENTS_OF => "sub_departments_of",
    SUBORDINATES => "subordinates",
    WIPE => "wipe",
}

/// The statements of a multi-statement file, in order.
pub fn statements(text: &str) -> impl Iterator<Item = &str> {
    text.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_statement_files_split_at_line_ending_semicolons() {
        assert_eq!(statements(IMPORT_EMPLOYEES).count(), 2);
        assert_eq!(statements(REORG_MERGE).count(), 5);
        assert_eq!(statements(SUBORDINATES).count(), 1);
    }
}
