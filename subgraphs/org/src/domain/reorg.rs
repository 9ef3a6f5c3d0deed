//! Reorganisations: the three changes that move people or departments. Each runs in one
//! transaction that refuses a cycle, and may name the org version it was decided on
//! (optimistic concurrency: a stale version is a `CONFLICT`, so two people reorganising at once
//! cannot both act on what the other changed).

use super::{DepartmentId, EmployeeId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reorg {
    /// `employee` now reports to `new_manager`; their direct reports stay where they were and
    /// report to the employee's previous manager.
    MoveEmployee {
        employee: EmployeeId,
        new_manager: EmployeeId,
    },
    /// `manager` and everyone below them now report (through `manager`) to `new_manager`.
    MoveTeam {
        manager: EmployeeId,
        new_manager: EmployeeId,
    },
    /// Every member and sub-department of `from` moves to `into`, and `from` is gone. Its head
    /// becomes a member when `into` has a head of its own.
    MergeDepartments {
        from: DepartmentId,
        into: DepartmentId,
    },
}

/// What a reorganisation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReorgOutcome {
    /// The org version after it (unchanged when nothing changed).
    pub version: u64,
    /// False when the org already looked like this (a retried request): nothing was written.
    pub changed: bool,
}
