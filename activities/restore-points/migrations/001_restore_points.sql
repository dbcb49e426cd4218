-- The restore-point index. Storage is the source of truth; this table is rebuilt from it
-- by `rebound restore-points sync` and kept current by the backup actions.
create table if not exists restore_points (
  id            text primary key,
  service       text not null,
  kind          text not null,
  status        text not null check (status in ('unverified', 'verified', 'failed')),
  started_at    timestamptz not null,
  completed_at  timestamptz not null,
  verified_at   timestamptz,
  size          bigint not null,
  sha256        text not null,
  set_id        text not null,
  run_id        text not null,
  storage       text not null,
  object        text not null,
  manifest      jsonb not null
);
-- "latest (verified) point of S before T" and list pages walk this index backwards.
create index if not exists restore_points_service_completed on restore_points (service, completed_at desc, id desc);
create index if not exists restore_points_set on restore_points (set_id);
create index if not exists restore_points_completed on restore_points (completed_at desc, id desc);
