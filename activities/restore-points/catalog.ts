// The restore-point index: the PostgreSQL catalog (shared pools, migrations) or a listing of storage, answering point and set queries.
import pg from 'pg';
import { applyMigrations } from './migrate.ts';
import { placeProblem } from './layout.ts';
import { manifestOf, type PointStatus, type RestorePoint } from './manifest.ts';
import type { ObjectStore } from './object-store.ts';

/** Which set: the newest complete one before a time, holding these services, all verified; or one by id. */
export interface SetQuery {
  before?: string;
  set_id?: string;
  services?: string[];
  verified?: boolean;
}

export interface PointQuery {
  service?: string;
  before?: string;
  status?: PointStatus[];
  limit?: number;
}

/** Answers restore-point queries: from the PostgreSQL index, or by listing storage. */
export interface PointIndex {
  readonly kind: 'catalog' | 'storage';
  list(query: PointQuery): Promise<RestorePoint[]>;
  get(id: string): Promise<RestorePoint | undefined>;
  latest(service: string, options: { before?: string; verified?: boolean }): Promise<RestorePoint | undefined>;
  /** The newest set (points of one run) with no failed point, completed before `before`, holding `services`. */
  newestSet(query?: SetQuery): Promise<RestorePoint[]>;
  record(point: RestorePoint): Promise<void>;
  remove(id: string): Promise<void>;
}

function toPoint(row: { manifest: RestorePoint; status: PointStatus; verified_at: Date | null }): RestorePoint {
  return { ...row.manifest, status: row.status, ...(row.verified_at ? { verified_at: row.verified_at.toISOString() } : {}) };
}

export class CatalogIndex implements PointIndex {
  readonly kind = 'catalog';
  private readonly pool: pg.Pool;
  private migrated?: Promise<void>;

  /** `storage`: only points of this store (a store's URL); undefined: every store. */
  constructor(
    url: string,
    private readonly storage?: string,
  ) {
    // allowExitOnIdle: an idle catalog connection must not keep a stopping worker alive.
    this.pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
    // A dropped idle connection (the catalog restarting) must not crash the worker.
    this.pool.on('error', () => undefined);
  }

  /** The catalog's tables, created or brought up to date once per pool. */
  migrate(): Promise<void> {
    // A failed attempt (the catalog down mid-incident) is not remembered: the next call retries.
    this.migrated ??= applyMigrations(this.pool).catch((error) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }

  private async rows(sql: string, params: unknown[]): Promise<RestorePoint[]> {
    await this.migrate();
    // An entry indexed before manifests were checked against their place is not a point.
    return (await this.pool.query(sql, params)).rows.map(toPoint).filter((p) => !placeProblem(p));
  }

  list(query: PointQuery): Promise<RestorePoint[]> {
    return this.rows(
      `select manifest, status, verified_at from restore_points
       where ($1::text is null or service = $1) and ($2::timestamptz is null or completed_at < $2)
         and ($3::text[] is null or status = any($3)) and ($5::text is null or storage = $5)
       order by completed_at desc, id desc limit $4`,
      [query.service ?? null, query.before ?? null, query.status ?? null, query.limit ?? 50, this.storage ?? null],
    );
  }

  async get(id: string): Promise<RestorePoint | undefined> {
    return (
      await this.rows('select manifest, status, verified_at from restore_points where id = $1 and ($2::text is null or storage = $2)', [
        id,
        this.storage ?? null,
      ])
    )[0];
  }

  async latest(service: string, options: { before?: string; verified?: boolean }): Promise<RestorePoint | undefined> {
    return (await this.list({ service, before: options.before, status: options.verified ? ['verified'] : ['verified', 'unverified'], limit: 1 }))[0];
  }

  async newestSet(query: SetQuery = {}): Promise<RestorePoint[]> {
    return this.rows(
      `with sets as (
         select set_id from restore_points where ($2::text is null or storage = $2) and ($3::text is null or set_id = $3) group by set_id
         having bool_and(status <> 'failed') and (not $5 or bool_and(status = 'verified'))
           and ($1::timestamptz is null or max(completed_at) < $1) and array_agg(service) @> $4::text[]
         order by max(completed_at) desc limit 1)
       select manifest, status, verified_at from restore_points where set_id in (select set_id from sets) and ($2::text is null or storage = $2) order by service`,
      [query.before ?? null, this.storage ?? null, query.set_id ?? null, query.services ?? [], !!query.verified],
    );
  }

  async record(point: RestorePoint, db: pg.Pool | pg.PoolClient = this.pool): Promise<void> {
    await this.migrate();
    const { status, verified_at } = point;
    const manifest = manifestOf(point);
    await db.query(
      `insert into restore_points (id, service, kind, status, started_at, completed_at, verified_at, size, sha256, set_id, run_id, storage, object, manifest)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       on conflict (id) do update set status = excluded.status, verified_at = excluded.verified_at, completed_at = excluded.completed_at,
         size = excluded.size, sha256 = excluded.sha256, manifest = excluded.manifest`,
      [
        point.id,
        point.service,
        point.kind,
        status,
        point.started_at,
        point.completed_at,
        verified_at ?? null,
        point.size,
        point.sha256,
        point.set_id,
        point.run_id,
        point.storage,
        point.object,
        manifest,
      ],
    );
  }

  async remove(id: string): Promise<void> {
    await this.migrate();
    await this.pool.query('delete from restore_points where id = $1', [id]);
  }

  /** Replaces the index entries of one store with what it holds, in one transaction. */
  async replaceAll(points: RestorePoint[], storage: string): Promise<void> {
    await this.migrate();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query('delete from restore_points where storage = $1', [storage]);
      for (const point of points) await this.record(point, client);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Without a catalog database, queries list the store itself: slower, never stale. */
export class StorageIndex implements PointIndex {
  readonly kind = 'storage';
  /** `scan`: the store's points (of one service), newest first. */
  constructor(private readonly scan: (service?: string) => Promise<RestorePoint[]>) {}

  async list(query: PointQuery): Promise<RestorePoint[]> {
    return (await this.scan(query.service))
      .filter((p) => (!query.before || Date.parse(p.completed_at) < Date.parse(query.before)) && (!query.status || query.status.includes(p.status)))
      .slice(0, query.limit ?? 50);
  }

  async get(id: string): Promise<RestorePoint | undefined> {
    return (await this.scan()).find((p) => p.id === id);
  }

  async latest(service: string, options: { before?: string; verified?: boolean }): Promise<RestorePoint | undefined> {
    return (await this.list({ service, before: options.before, status: options.verified ? ['verified'] : ['verified', 'unverified'], limit: 1 }))[0];
  }

  async newestSet(query: SetQuery = {}): Promise<RestorePoint[]> {
    const bySet = new Map<string, RestorePoint[]>();
    for (const p of await this.scan()) bySet.set(p.set_id, [...(bySet.get(p.set_id) ?? []), p]);
    const newest = (set: RestorePoint[]) => Math.max(...set.map((p) => Date.parse(p.completed_at)));
    const complete = [...bySet.entries()]
      .filter(([id, set]) => setMatches(id, set, query))
      .map(([, set]) => set)
      .sort((a, b) => newest(b) - newest(a));
    return (complete[0] ?? []).sort((a, b) => a.service.localeCompare(b.service));
  }

  async record(): Promise<void> {}
  async remove(): Promise<void> {}
}

/** The storage index's version of the catalog's `having` clause. */
function setMatches(id: string, set: RestorePoint[], query: SetQuery): boolean {
  const services = new Set(set.map((p) => p.service));
  return (
    (!query.set_id || id === query.set_id) &&
    set.every((p) => p.status !== 'failed' && (!query.verified || p.status === 'verified')) &&
    (!query.before || set.every((p) => Date.parse(p.completed_at) < Date.parse(query.before!))) &&
    (query.services ?? []).every((s) => services.has(s))
  );
}

const shared = new Map<string, CatalogIndex>();
const key = (url: string, storage: string) => `${storage}\u0000${url}`;

/**
 * The catalog named by $REBOUND_CATALOG_URL on this worker, else the store itself. The
 * catalog's pool (and its migration check) is shared by every activity of the process,
 * and closed by closeCatalogs() when the worker stops.
 */
export function openIndex(store: ObjectStore, scan: (service?: string) => Promise<RestorePoint[]>): PointIndex {
  const url = process.env.REBOUND_CATALOG_URL;
  if (!url) return new StorageIndex(scan);
  let index = shared.get(key(url, store.url));
  if (!index) {
    index = new CatalogIndex(url, store.url);
    shared.set(key(url, store.url), index);
  }
  return index;
}

/** Closes every shared catalog pool of this process (worker shutdown). */
export async function closeCatalogs(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
}
