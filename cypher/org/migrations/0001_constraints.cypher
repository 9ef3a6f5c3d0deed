// Uniqueness constraints (each also creates the range index that looks the key up).
CREATE CONSTRAINT employee_id IF NOT EXISTS FOR (e:Employee) REQUIRE e.id IS UNIQUE;
CREATE CONSTRAINT employee_email IF NOT EXISTS FOR (e:Employee) REQUIRE e.email IS UNIQUE;
CREATE CONSTRAINT department_id IF NOT EXISTS FOR (d:Department) REQUIRE d.id IS UNIQUE;
CREATE CONSTRAINT org_meta_id IF NOT EXISTS FOR (o:OrgMeta) REQUIRE o.id IS UNIQUE;
CREATE CONSTRAINT department_merge_from IF NOT EXISTS FOR (a:DepartmentMerge) REQUIRE a.from IS UNIQUE;
