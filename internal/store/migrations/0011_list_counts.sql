-- 0011: lists that read what they show.
--
-- A list shows a page of incidents of one kind of drill (real incidents,
-- or drills) and one status or both, newest first. incidents_list holds
-- them in that order for each (drill, status): a page is a walk backwards
-- from a number, stopping after LIMIT rows; a list of both statuses merges
-- two such walks (UNION ALL ... ORDER BY num, which SQLite merges without
-- sorting). It replaces incidents_by_status, which a list of real open
-- incidents walked past every open drill, and the partial incidents_drills,
-- so a declaration still touches one list index.
DROP INDEX incidents_by_status;
DROP INDEX incidents_drills;
CREATE INDEX incidents_list ON incidents (drill, status, num);

-- incident_counts says how many incidents each list holds, kept by
-- triggers in the transaction that changes the incidents, so a list reads
-- its count from one row instead of counting an index. It is derived from
-- the incidents table: the audit log does not record it, and audit verify
-- counts the incidents again and compares.
CREATE TABLE incident_counts (
    drill  INTEGER NOT NULL,
    status TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (drill, status, kind)
) STRICT, WITHOUT ROWID;
INSERT INTO incident_counts (drill, status, kind, n)
    SELECT drill, status, kind, count(*) FROM incidents GROUP BY drill, status, kind;

CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incident_counts (drill, status, kind, n) VALUES (NEW.drill, NEW.status, NEW.kind, 1)
        ON CONFLICT (drill, status, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incident_counts_update AFTER UPDATE OF drill, status, kind ON incidents
    WHEN OLD.drill IS NOT NEW.drill OR OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind BEGIN
    UPDATE incident_counts SET n = n - 1 WHERE drill = OLD.drill AND status = OLD.status AND kind = OLD.kind;
    INSERT INTO incident_counts (drill, status, kind, n) VALUES (NEW.drill, NEW.status, NEW.kind, 1)
        ON CONFLICT (drill, status, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN
    UPDATE incident_counts SET n = n - 1 WHERE drill = OLD.drill AND status = OLD.status AND kind = OLD.kind;
END;
