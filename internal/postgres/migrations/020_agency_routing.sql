-- Which agency receives the petitions of each category ('*': every
-- category without its own), set by pakn agency import (and pakn seed for
-- the demo city) instead of being compiled in.
CREATE TABLE agency_routing (
    category    text PRIMARY KEY CHECK (category ~ '^(\*|[a-z_]{1,40})$'),
    agency_code text NOT NULL REFERENCES agencies (code)
);
REVOKE ALL ON agency_routing FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON agency_routing TO {{.app_role}};
