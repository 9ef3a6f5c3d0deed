//! The records the store port speaks in: people, departments, traversal answers, and the whole
//! org chart as one value (what the demo seed, the benchmark generator and backups move around).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::{DepartmentId, DepartmentName, Email, EmployeeId, InvalidInput, PersonName, Title};

/// What someone is in their department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Head,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Head => "head",
            Role::Member => "member",
        }
    }
}

impl FromStr for Role {
    type Err = InvalidInput;
    fn from_str(raw: &str) -> Result<Self, InvalidInput> {
        match raw {
            "head" => Ok(Role::Head),
            "member" => Ok(Role::Member),
            _ => Err(InvalidInput::new("role", "must be head or member")),
        }
    }
}

/// A person, with their home department (every employee is a member of exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub id: EmployeeId,
    pub name: PersonName,
    pub email: Email,
    pub title: Title,
    pub department: DepartmentId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: DepartmentId,
    pub name: DepartmentName,
    /// `None` for the root (`company`).
    pub parent: Option<DepartmentId>,
}

/// How far down (or up) a traversal may go, 1 to [`Depth::MAX`]. The limit on every loop over
/// the hierarchy: no stored path, however corrupt, makes a query walk further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Depth(u32);

impl Depth {
    /// Deeper than any real org (ours are 5 to 12 levels); bounds every traversal.
    pub const MAX: u32 = 64;
    pub const UNLIMITED: Depth = Depth(Self::MAX);

    pub fn new(levels: i64) -> Result<Self, InvalidInput> {
        if (1..=i64::from(Self::MAX)).contains(&levels) {
            Ok(Depth(levels as u32))
        } else {
            Err(InvalidInput::new(
                "maxDepth",
                format!("must be between 1 and {}", Self::MAX),
            ))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Someone below a manager, `depth` levels down (1: a direct report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subordinate {
    pub employee: Employee,
    pub depth: u32,
}

/// Where a page of subordinates ends: pages are ordered by depth, then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubordinateCursor {
    pub depth: u32,
    pub id: EmployeeId,
}

impl SubordinateCursor {
    pub fn after(subordinate: &Subordinate) -> Self {
        Self {
            depth: subordinate.depth,
            id: subordinate.employee.id.clone(),
        }
    }
}

impl fmt::Display for SubordinateCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.depth, self.id)
    }
}

impl FromStr for SubordinateCursor {
    type Err = InvalidInput;
    fn from_str(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("after", "not a cursor from a previous page");
        let (depth, id) = raw.split_once(':').ok_or_else(bad)?;
        let depth: u32 = depth.parse().map_err(|_| bad())?;
        let id = EmployeeId::parse(id).map_err(|_| bad())?;
        if depth == 0 || depth > Depth::MAX {
            return Err(bad());
        }
        Ok(Self { depth, id })
    }
}

/// Span of control: direct reports, and everyone below at any depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub direct: u64,
    pub total: u64,
}

/// One department of a department tree, with its head counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCount {
    pub department: Department,
    /// 0 for the tree's root.
    pub depth: u32,
    /// Members of this department itself.
    pub head_count: u64,
    /// Members of this department and every department below it.
    pub total_head_count: u64,
}

impl DepartmentCount {
    /// Fills `total_head_count` from the own counts of a tree's rows (each department's parent
    /// is in the rows, except the root's), and orders them parents first, then by id.
    pub fn with_totals(mut rows: Vec<DepartmentCount>) -> Vec<DepartmentCount> {
        rows.sort_by(|a, b| (a.depth, &a.department.id).cmp(&(b.depth, &b.department.id)));
        let index: HashMap<DepartmentId, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.department.id.clone(), i))
            .collect();
        for row in &mut rows {
            row.total_head_count = row.head_count;
        }
        // Deepest first: each row adds its (complete) total to its parent's.
        for i in (0..rows.len()).rev() {
            let parent = rows[i]
                .department
                .parent
                .as_ref()
                .and_then(|p| index.get(p));
            if let Some(&p) = parent
                && rows[p].depth < rows[i].depth
            {
                rows[p].total_head_count += rows[i].total_head_count;
            }
        }
        rows
    }
}

/// A department as the org chart stores it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DepartmentRecord {
    pub id: DepartmentId,
    pub name: DepartmentName,
    pub parent: Option<DepartmentId>,
}

/// A person as the org chart stores them: who they report to, since when, and where they work.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmployeeRecord {
    pub id: EmployeeId,
    pub name: PersonName,
    pub email: Email,
    pub title: Title,
    pub department: DepartmentId,
    pub role: Role,
    pub manager: Option<EmployeeId>,
    /// When the current reporting line began (the `REPORTS_TO` edge's `since`).
    pub reports_since: NaiveDate,
    /// When they joined their department (the `MEMBER_OF` edge's `since`).
    pub member_since: NaiveDate,
}

impl EmployeeRecord {
    pub fn employee(&self) -> Employee {
        Employee {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            title: self.title.clone(),
            department: self.department.clone(),
            role: self.role,
        }
    }
}

/// A whole organisation: the demo seed, a generated benchmark org, or a backup.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct OrgChart {
    pub departments: Vec<DepartmentRecord>,
    pub employees: Vec<EmployeeRecord>,
}

impl OrgChart {
    /// Checks the chart is a forest that stores can load: unique ids and e-mails, parents and
    /// managers that exist, no cycles; returns it ordered parents first and managers first, the
    /// order in which every adapter inserts.
    pub fn ordered(mut self) -> Result<OrgChart, InvalidInput> {
        let mut seen = HashSet::new();
        for d in &self.departments {
            if !seen.insert(d.id.as_str()) {
                return Err(InvalidInput::new("departments", format!("{} twice", d.id)));
            }
        }
        let mut emails = HashSet::new();
        let mut ids = HashSet::new();
        for e in &self.employees {
            if !ids.insert(e.id.as_str()) || !emails.insert(e.email.as_str()) {
                return Err(InvalidInput::new(
                    "employees",
                    format!("{} or {} twice", e.id, e.email),
                ));
            }
            if !seen.contains(e.department.as_str()) {
                return Err(InvalidInput::new(
                    "employees",
                    format!("{} is in unknown department {}", e.id, e.department),
                ));
            }
        }
        let departments = topological(
            std::mem::take(&mut self.departments),
            |d| d.id.as_str().to_owned(),
            |d| d.parent.as_ref().map(|p| p.as_str().to_owned()),
        )
        .map_err(|m| InvalidInput::new("departments", m))?;
        let employees = topological(
            std::mem::take(&mut self.employees),
            |e| e.id.as_str().to_owned(),
            |e| e.manager.as_ref().map(|m| m.as_str().to_owned()),
        )
        .map_err(|m| InvalidInput::new("employees", m))?;
        Ok(OrgChart {
            departments,
            employees,
        })
    }
}

/// `items` ordered so each comes after its parent; refuses unknown parents and cycles.
fn topological<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> String,
    parent: impl Fn(&T) -> Option<String>,
) -> Result<Vec<T>, String> {
    let index: HashMap<String, usize> = items.iter().enumerate().map(|(i, t)| (id(t), i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    let mut roots = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match parent(item) {
            None => roots.push(i),
            Some(p) => match index.get(&p) {
                Some(&pi) => children[pi].push(i),
                None => return Err(format!("{} names unknown parent {p}", id(item))),
            },
        }
    }
    let mut order = Vec::with_capacity(items.len());
    let mut queue = std::collections::VecDeque::from(roots);
    while let Some(i) = queue.pop_front() {
        order.push(i);
        queue.extend(children[i].iter().copied());
    }
    if order.len() != items.len() {
        return Err("the reporting or department lines form a cycle".to_owned());
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(id: &str, parent: Option<&str>) -> DepartmentRecord {
        DepartmentRecord {
            id: DepartmentId::parse(id).unwrap(),
            name: DepartmentName::parse(id).unwrap(),
            parent: parent.map(|p| DepartmentId::parse(p).unwrap()),
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c: SubordinateCursor = "3:user042".parse().unwrap();
        assert_eq!(c.to_string(), "3:user042");
        for bad in ["", "3", "x:bob", "0:bob", "65:bob", "3:Bob"] {
            assert!(bad.parse::<SubordinateCursor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        assert!(Depth::new(0).is_err());
        assert!(Depth::new(65).is_err());
        assert_eq!(Depth::new(64).unwrap(), Depth::UNLIMITED);
    }

    #[test]
    fn charts_are_ordered_parents_first_and_cycles_refused() {
        let chart = OrgChart {
            departments: vec![dept("b", Some("a")), dept("a", None), dept("c", Some("b"))],
            employees: vec![],
        };
        let ordered = chart.ordered().unwrap();
        let ids: Vec<_> = ordered.departments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let cyclic = OrgChart {
            departments: vec![dept("a", Some("b")), dept("b", Some("a"))],
            employees: vec![],
        };
        assert!(cyclic.ordered().is_err());
        let orphan = OrgChart {
            departments: vec![dept("a", Some("zz"))],
            employees: vec![],
        };
        assert!(orphan.ordered().is_err());
    }

    #[test]
    fn totals_roll_up_the_tree() {
        let row = |id: &str, parent: Option<&str>, depth, n| DepartmentCount {
            department: Department {
                id: DepartmentId::parse(id).unwrap(),
                name: DepartmentName::parse(id).unwrap(),
                parent: parent.map(|p| DepartmentId::parse(p).unwrap()),
            },
            depth,
            head_count: n,
            total_head_count: 0,
        };
        let rows = DepartmentCount::with_totals(vec![
            row("leaf", Some("mid"), 2, 5),
            row("root", None, 0, 1),
            row("mid", Some("root"), 1, 2),
            row("side", Some("root"), 1, 3),
        ]);
        let totals: Vec<_> = rows
            .iter()
            .map(|r| (r.department.id.as_str(), r.total_head_count))
            .collect();
        assert_eq!(totals, [("root", 11), ("mid", 7), ("side", 3), ("leaf", 5)]);
    }
}
