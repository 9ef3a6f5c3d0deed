// A relationship property index on MEMBER_OF.role: a department's head is found from the few
// `head` relationships instead of scanning every membership of a department with 10 k members.
CREATE INDEX member_of_role IF NOT EXISTS FOR ()-[m:MEMBER_OF]-() ON (m.role);
