-- The facts the rules read, along an index each: a rep's previous check-in (the travel and
-- repeat rules, on every check-in the phone records and every visit the server reviews).
CREATE INDEX visits_owner_time ON visits(owner_id, check_in_at, id);
