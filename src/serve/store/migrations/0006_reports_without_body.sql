-- A delivery report's body (the SMS text, with the number once more) is not kept with the
-- report: nothing reads it back (a report for another app is forwarded from its own copy in
-- `forwards`, deleted once forwarded or given up), and an alert's text has no business lying in
-- the store for 30 days. The recipient's number stays in its own column: the per-recipient state
-- of an order is read from it. A smaller row is also fewer pages per commit (docs/benchmarks.md,
-- "onfail serve: report intake").
ALTER TABLE reports DROP COLUMN body;
