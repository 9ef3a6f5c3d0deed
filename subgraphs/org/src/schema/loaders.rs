//! The batch loaders behind the schema's per-object fields: each turns the keys one scheduler
//! turn gathered into one store call (see `polygate_kit::batch`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::domain::{Department, DepartmentId, Email, Employee, EmployeeId, Span};
use crate::store::{OrgStore, StoreError};

/// Employees by id: one `employees_by_ids` call.
pub struct EmployeeLoader(pub Arc<dyn OrgStore>);

impl Loader<EmployeeId> for EmployeeLoader {
    type Value = Employee;
    type Error = StoreError;

    async fn load(&self, keys: &[EmployeeId]) -> Result<HashMap<EmployeeId, Employee>, StoreError> {
        let found = self.0.employees_by_ids(keys).await?;
        Ok(found.into_iter().map(|e| (e.id.clone(), e)).collect())
    }
}

/// Employees by e-mail (commerce's `User` representations): one `employees_by_emails` call.
pub struct EmailLoader(pub Arc<dyn OrgStore>);

impl Loader<Email> for EmailLoader {
    type Value = Employee;
    type Error = StoreError;

    async fn load(&self, keys: &[Email]) -> Result<HashMap<Email, Employee>, StoreError> {
        let found = self.0.employees_by_emails(keys).await?;
        Ok(found.into_iter().map(|e| (e.email.clone(), e)).collect())
    }
}

/// Each employee's manager: one `managers_of` call for N employees.
pub struct ManagerLoader(pub Arc<dyn OrgStore>);

impl Loader<EmployeeId> for ManagerLoader {
    type Value = Employee;
    type Error = StoreError;

    async fn load(&self, keys: &[EmployeeId]) -> Result<HashMap<EmployeeId, Employee>, StoreError> {
        Ok(self.0.managers_of(keys).await?.into_iter().collect())
    }
}

/// Each employee's direct reports: one `direct_reports_of` call.
pub struct ReportsLoader(pub Arc<dyn OrgStore>);

impl Loader<EmployeeId> for ReportsLoader {
    type Value = Vec<Employee>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[EmployeeId],
    ) -> Result<HashMap<EmployeeId, Vec<Employee>>, StoreError> {
        let mut reports: HashMap<EmployeeId, Vec<Employee>> = HashMap::new();
        for (manager, report) in self.0.direct_reports_of(keys).await? {
            reports.entry(manager).or_default().push(report);
        }
        Ok(reports)
    }
}

/// Each employee's span of control: one `spans_of_control` call.
pub struct SpanLoader(pub Arc<dyn OrgStore>);

impl Loader<EmployeeId> for SpanLoader {
    type Value = Span;
    type Error = StoreError;

    async fn load(&self, keys: &[EmployeeId]) -> Result<HashMap<EmployeeId, Span>, StoreError> {
        Ok(self.0.spans_of_control(keys).await?.into_iter().collect())
    }
}

/// Departments by id: one `departments_by_ids` call.
pub struct DepartmentLoader(pub Arc<dyn OrgStore>);

impl Loader<DepartmentId> for DepartmentLoader {
    type Value = Department;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[DepartmentId],
    ) -> Result<HashMap<DepartmentId, Department>, StoreError> {
        let found = self.0.departments_by_ids(keys).await?;
        Ok(found.into_iter().map(|d| (d.id.clone(), d)).collect())
    }
}

/// Each department's direct sub-departments: one `sub_departments_of` call.
pub struct SubDepartmentsLoader(pub Arc<dyn OrgStore>);

impl Loader<DepartmentId> for SubDepartmentsLoader {
    type Value = Vec<Department>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[DepartmentId],
    ) -> Result<HashMap<DepartmentId, Vec<Department>>, StoreError> {
        let mut children: HashMap<DepartmentId, Vec<Department>> = HashMap::new();
        for child in self.0.sub_departments_of(keys).await? {
            if let Some(parent) = child.parent.clone() {
                children.entry(parent).or_default().push(child);
            }
        }
        Ok(children)
    }
}

/// Each department's head: one `department_heads` call.
pub struct HeadLoader(pub Arc<dyn OrgStore>);

impl Loader<DepartmentId> for HeadLoader {
    type Value = Employee;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[DepartmentId],
    ) -> Result<HashMap<DepartmentId, Employee>, StoreError> {
        Ok(self.0.department_heads(keys).await?.into_iter().collect())
    }
}
