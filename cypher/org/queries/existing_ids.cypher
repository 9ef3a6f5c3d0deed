// Which of the given departments and employees exist already (import adds only the others).
CALL {
  UNWIND $departments AS id
  MATCH (d:Department {id: id})
  RETURN collect(d.id) AS departments
}
CALL {
  UNWIND $employees AS id
  MATCH (e:Employee {id: id})
  RETURN collect(e.id) AS employees
}
RETURN departments, employees
