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
];
