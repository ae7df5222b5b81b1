/** Schema migrations, applied in order; PRAGMA user_version records how many ran. Append only. */
export const MIGRATIONS: readonly string[] = [
  // 1: resources as JSON documents per (region, kind, id); tags; idempotency tokens; meta.
  `
  CREATE TABLE resources (
    region TEXT NOT NULL,
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (region, kind, id)
  );
  CREATE TABLE tags (
    region        TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (region, resource_id, key)
  );
  CREATE INDEX tags_by_type ON tags (region, resource_type);
  CREATE TABLE idempotency (
    region     TEXT NOT NULL,
    action     TEXT NOT NULL,
    token      TEXT NOT NULL,
    request    TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (region, action, token)
  );
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: unique values and non-overlapping ranges of records, kept apart so the schema guards them.
  `
  CREATE TABLE resource_keys (
    space  TEXT NOT NULL,
    scope  TEXT NOT NULL,
    value  TEXT NOT NULL,
    region TEXT NOT NULL,
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (space, scope, value)
  );
  CREATE INDEX resource_keys_by_record ON resource_keys (region, kind, id);
  CREATE TABLE resource_ranges (
    kind   TEXT NOT NULL,
    region TEXT NOT NULL,
    scope  TEXT NOT NULL,
    low    INTEGER NOT NULL,
    high   INTEGER NOT NULL,
    id     TEXT NOT NULL
  );
  CREATE INDEX resource_ranges_by_scope ON resource_ranges (kind, region, scope, low);
  CREATE INDEX resource_ranges_by_record ON resource_ranges (region, kind, id);
  CREATE TRIGGER resource_ranges_no_overlap BEFORE INSERT ON resource_ranges
  WHEN EXISTS (
    SELECT 1 FROM resource_ranges r
    WHERE r.kind = NEW.kind AND r.region = NEW.region AND r.scope = NEW.scope AND r.low <= NEW.high AND NEW.low <= r.high
  )
  BEGIN
    SELECT RAISE(ABORT, 'range overlaps');
  END;
  `,
  // 3: a volume's attachments are a list (Multi-Attach): the single `attachment` of older records becomes `attachments`.
  `
  UPDATE resources SET data = json_set(json_remove(data, '$.attachment'), '$.attachments', json_array(json(json_extract(data, '$.attachment'))))
  WHERE kind = 'volume' AND json_type(data, '$.attachment') = 'object';
  UPDATE resources SET data = json_set(data, '$.attachments', json('[]'))
  WHERE kind = 'volume' AND json_type(data, '$.attachments') IS NULL;
  `,
  // 4: a kind's records across regions (reconcilers' listAllRegions, hasRecords) without a scan of every record
  `
  CREATE INDEX resources_by_kind ON resources (kind);
  `,
];
