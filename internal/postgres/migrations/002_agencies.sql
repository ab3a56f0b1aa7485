-- The directory of agencies that receive and answer petitions.
CREATE TABLE agencies (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    parent_code text REFERENCES agencies (code),
    kind        text NOT NULL CHECK (kind IN ('government_office', 'city_committee', 'department', 'district_committee')),
    name_vi     text NOT NULL CHECK (char_length(name_vi) BETWEEN 1 AND 300),
    name_en     text NOT NULL CHECK (char_length(name_en) BETWEEN 1 AND 300),
    created_at  timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON agencies FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON agencies TO {{.app_role}};
