-- 0004: fewer index pages per declaration.
--
-- Every index an insert touches is one more page in the durable commit, and
-- declaring an incident is the widest write irtui makes. Two indexes earned
-- less than they cost:
--
-- incidents_by_drill indexed every incident, though only drills are ever
-- looked up by it. A partial index holds the drills alone, so a real
-- incident's declaration does not touch it; lists that exclude drills walk
-- the table in number order, which is the order they show.
--
-- incident_customers_by_customer answered no query: customers are read per
-- incident (the primary key), and customers are never deleted, so the
-- foreign key needs no index on this side either. It cost two pages per
-- declaration with two customers, one per customer.
DROP INDEX incidents_by_drill;
CREATE INDEX incidents_drills ON incidents (num) WHERE drill = 1;
DROP INDEX incident_customers_by_customer;
