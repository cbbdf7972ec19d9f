-- 010: drop case_audit's (subdistrict, case_id) index (from 008). Every read of the audit
-- trail names one case (`WHERE case_id = …`), which the unique (case_id, seq) index serves
-- with the row-level-security key checked on the few rows found; the extra B-tree only cost
-- an index insert per audit row (a quarter of the time of writing the creation entries of
-- a batch import, bench/README.md).
DROP INDEX IF EXISTS case_audit_subdistrict;
