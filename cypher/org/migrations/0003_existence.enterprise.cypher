// Existence constraints: Enterprise Edition only (Aura has them; the Community test server
// refuses them, so the runner skips this file there and the adapter's writes always set these).
CREATE CONSTRAINT employee_name_exists IF NOT EXISTS FOR (e:Employee) REQUIRE e.name IS NOT NULL;
CREATE CONSTRAINT employee_email_exists IF NOT EXISTS FOR (e:Employee) REQUIRE e.email IS NOT NULL;
CREATE CONSTRAINT department_name_exists IF NOT EXISTS FOR (d:Department) REQUIRE d.name IS NOT NULL;
CREATE CONSTRAINT reports_to_since_exists IF NOT EXISTS FOR ()-[r:REPORTS_TO]-() REQUIRE r.since IS NOT NULL;
CREATE CONSTRAINT member_of_role_exists IF NOT EXISTS FOR ()-[m:MEMBER_OF]-() REQUIRE m.role IS NOT NULL;
