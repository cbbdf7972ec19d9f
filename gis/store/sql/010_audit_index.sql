-- 010: drop case_audit's (subdistrict, case_id) index (from 008). Every read of the audit
-- trail names one case (`WHERE case_id = …`), which the unique (case_id, seq) index serves,
-- the row-level-security key being checked on the few rows it finds; the extra B-tree was
-- used by no query and cost an index insert per audit row (bench/README.md, batch intake).
DROP INDEX IF EXISTS case_audit_subdistrict;
