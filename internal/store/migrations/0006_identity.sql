-- 0006: who people are, and what they may do.
--
-- A person is known by the OS accounts that act as them on this machine
-- (person_os_users) and by the SSH keys they connect to `irtui serve` with
-- (person_keys); each account and each key belongs to one person. What
-- they may do beyond holding roles is a JSON array of permissions (admin,
-- approve, override, export). irtui_meta keeps 'installer', the OS user
-- who created the database (its first administrator until some person has
-- an OS user or a key), and 'demo_commander' while the bundled demo
-- directory is the one loaded.
--
-- Timeline and audit entries record how their actor was authenticated
-- (auth: "os:bob", "ssh:SHA256:... from ADDR", "claim by os:bob", ...).
-- The hash chains cover it whenever it is set.

ALTER TABLE people ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';

CREATE TABLE person_os_users (
    os_user   TEXT NOT NULL PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_os_users_by_person ON person_os_users (person_id);

CREATE TABLE person_keys (
    fingerprint TEXT    NOT NULL PRIMARY KEY, -- SHA256:... as ssh-keygen -l shows it
    person_id   TEXT    NOT NULL REFERENCES people (id),
    position    INTEGER NOT NULL,             -- order in the person's ssh_keys
    key         TEXT    NOT NULL,             -- "type base64", as in authorized_keys
    comment     TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX person_keys_by_person ON person_keys (person_id, position);

ALTER TABLE timeline ADD COLUMN auth TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN auth TEXT NOT NULL DEFAULT '';
