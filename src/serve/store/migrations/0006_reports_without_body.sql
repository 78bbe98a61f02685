-- A delivery report's body (the SMS text and the recipient's number) is not kept with the report:
-- nothing reads it back (a report for another app is forwarded from its own copy in `forwards`,
-- deleted once forwarded or given up), and a number and an alert's text have no business lying in the store
-- for 30 days. A smaller row is also fewer pages per commit (docs/benchmarks.md, "onfail serve:
-- report intake").
ALTER TABLE reports DROP COLUMN body;
