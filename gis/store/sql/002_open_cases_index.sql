-- 002: "open cases in zone Z since T" is the most frequent query (maps, patrol routes);
-- a partial index keeps it to the open rows only.
CREATE INDEX cases_open_zone_time ON cases (zone_id, reported_at)
    WHERE state NOT IN ('closed', 'rejected', 'duplicate');
