// mysql.dump/restore/check and backup.verify against a real MariaDB 10.11 (Debian): a round trip that dumps identically, wrong password, a server stopped mid-dump, a flipped byte.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { mysqlCheckImpl } from '../../activities/mysql/check.ts';
import { mysqlDumpImpl } from '../../activities/mysql/dump.ts';
import { mysqlRestoreImpl } from '../../activities/mysql/restore.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { startMariaDb, type MariaDbServer } from '../../stack/mariadb.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { startTcpRelay } from '../helpers/tcp-relay.ts';
import { childrenNamed, procStrings } from '../helpers/tool-processes.ts';

let db: MariaDbServer;
const root = mkdtempSync(join(tmpdir(), 'rebound-mysql-test-'));
const storage = `file://${join(root, 'store')}`;
const ROWS = 200_000;

/** A model registry's shape: a 200k-row table with binary and non-ASCII data, a view, two routines, a trigger and an event. */
const SCHEMA = `
SET SESSION max_recursive_iterations = ${ROWS * 2};
CREATE TABLE models (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64) NOT NULL, version INT NOT NULL, UNIQUE KEY (name, version)) ENGINE=InnoDB;
CREATE TABLE runs (id INT PRIMARY KEY, model_id INT NOT NULL, metric DOUBLE, digest VARBINARY(16), note VARCHAR(200) CHARACTER SET utf8mb4, at DATETIME(6)) ENGINE=InnoDB;
CREATE TABLE audit (id INT PRIMARY KEY AUTO_INCREMENT, run_id INT NOT NULL) ENGINE=InnoDB;
INSERT INTO models (name, version) VALUES ('churn', 1), ('churn', 2), ('fraud', 1);
INSERT INTO runs WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${ROWS})
  SELECT n, 1 + n % 3, n / 7, UNHEX(MD5(n)), CONCAT('Zoë 東京 ', SHA2(n, 256)), TIMESTAMP('2026-01-01') + INTERVAL n SECOND FROM seq;
CREATE VIEW latest AS SELECT name, MAX(version) AS version FROM models GROUP BY name;
CREATE FUNCTION run_count(m INT) RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM runs WHERE model_id = m);
CREATE PROCEDURE promote(IN m INT) MODIFIES SQL DATA UPDATE models SET version = version + 10 WHERE id = m;
CREATE TRIGGER runs_audit AFTER INSERT ON runs FOR EACH ROW INSERT INTO audit (run_id) VALUES (NEW.id);
CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE run_id < 0;
`;

beforeAll(async () => {
  db = await startMariaDb({ log: (line) => console.log(`[mariadb] ${line}`) });
  await db.query('CREATE DATABASE registry');
  await db.query(SCHEMA, [], 'registry');
  process.env.MYSQL_TEST_URL = db.url('registry');
  process.env.MYSQL_TEST_SERVER = db.url('');
  process.env.MYSQL_TEST_WRONG = db.url('registry', 'not-the-password');
}, 600_000); // the first run installs mariadb-server from Debian

afterAll(async () => {
  await db?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'nightly-backup',
  step: 'dump-registry',
  with: (impl) => (impl.spec.name === 'mysql.check' ? {} : { storage: { url: storage } }),
  secrets: {
    registry: { env: 'MYSQL_TEST_URL' },
    server: { env: 'MYSQL_TEST_SERVER' },
    wrong: { env: 'MYSQL_TEST_WRONG' },
    relayed: { env: 'MYSQL_TEST_RELAYED' },
  },
});
const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });

/** Everything a database holds that a restore must bring back: each table's checksum, its routines, triggers, events and views' rows. */
async function contents(database: string): Promise<unknown> {
  const q = (sql: string) => db.query(sql, [database], database);
  return {
    tables: await db.query('CHECKSUM TABLE models, runs, audit', [], database).then((rows) => rows.map((r) => [String(r.Table).split('.')[1], r.Checksum])),
    routines: await q('SELECT routine_name, routine_type, routine_definition FROM information_schema.routines WHERE routine_schema = ? ORDER BY 1'),
    triggers: await q('SELECT trigger_name, event_manipulation, action_statement FROM information_schema.triggers WHERE trigger_schema = ? ORDER BY 1'),
    events: await q('SELECT event_name, event_definition, status FROM information_schema.events WHERE event_schema = ? ORDER BY 1'),
    latest: await db.query('SELECT * FROM latest ORDER BY name', [], database),
  };
}

/** A point's dump as text, without the comment lines that name the host, database and time. */
function dumpText(serviceDir: string, id: string): string {
  const text = gunzipSync(readFileSync(join(root, 'store', serviceDir, 'mysql', id, 'dump.sql.gz'))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => !line.startsWith('-- '))
    .join('\n');
}

describe('mysql.dump and mysql.restore on MariaDB 10.11', () => {
  it(
    'a dump restored into a scratch database holds the same rows, routines, triggers and events, and dumps again byte for byte',
    { timeout: 300_000 },
    async () => {
      const dump = await run(mysqlDumpImpl, { source: { $secret: 'registry' }, service: 'registry' });
      const point = await points().find(dump.outputs.restore_point_id as string);
      expect(point).toMatchObject({
        kind: 'mysql',
        object: 'dump.sql.gz',
        source: { host: '127.0.0.1', port: db.port, database: 'registry', user: 'rebound' },
      });
      expect(point.server_version).toMatch(/^10\.11\..*MariaDB/);
      expect(point.tool.name).toBe('mariadb-dump');
      expect(JSON.stringify(point)).not.toContain(db.password);

      const restored = await run(mysqlRestoreImpl, {
        restore_point: point.id,
        target: { $secret: 'server' },
        database: 'registry_copy',
        create_database: true,
      });
      expect(restored.outputs).toMatchObject({ database: 'registry_copy', restored_bytes: point.size });
      expect(await contents('registry_copy')).toEqual(await contents('registry'));
      // The trigger came back live, and the routines run.
      await db.query("INSERT INTO runs (id, model_id, note) VALUES (0, 1, 'after restore')", [], 'registry_copy');
      expect(await db.query('SELECT run_id FROM audit', [], 'registry_copy')).toEqual([{ run_id: 0 }]);
      expect(await db.query('SELECT run_count(1) AS n', [], 'registry_copy')).toEqual([{ n: Math.floor(ROWS / 3) + 1 }]);
      await db.query('DELETE FROM runs WHERE id = 0; DELETE FROM audit; ALTER TABLE audit AUTO_INCREMENT = 1', [], 'registry_copy');

      const again = await run(mysqlDumpImpl, { source: { $secret: 'server' }, database: 'registry_copy', service: 'registry-copy' });
      expect(dumpText('registry-copy', again.outputs.restore_point_id as string)).toBe(dumpText('registry', point.id));

      const checked = await run(mysqlCheckImpl, {
        target: { $secret: 'server' },
        database: 'registry_copy',
        checks: { tables: ['models', 'latest'], min_rows: { runs: ROWS }, sql: [{ query: "SELECT * FROM models WHERE name = 'fraud'", min_rows: 1 }] },
      });
      expect((checked.outputs.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
      const short = await failureOf(
        run(mysqlCheckImpl, { target: { $secret: 'server' }, database: 'registry_copy', checks: { min_rows: { runs: ROWS + 1 } } }),
      );
      expect(short).toMatchObject({ type: 'check_failed', nonRetryable: false });
      expect(short.message).toContain(`rows in runs ≥ ${ROWS + 1}: ${ROWS} rows`);
    },
  );

  it(
    'backup.verify restores a point into a scratch database and drops it; a flipped byte fails verify and a restore refuses before touching the target',
    { timeout: 300_000 },
    async () => {
      const dump = await run(mysqlDumpImpl, { source: { $secret: 'registry' }, service: 'registry-verify' });
      const id = dump.outputs.restore_point_id as string;
      const ok = await run(verify, { restore_point: id, scratch: { $secret: 'server' }, checks: { tables: ['runs'], min_rows: { runs: ROWS } } });
      expect(ok.outputs).toMatchObject({ status: 'verified' });
      const left = await db.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'rebound_verify%'");
      expect(left).toEqual([]);

      const file = join(root, 'store', 'registry-verify', 'mysql', id, 'dump.sql.gz');
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      writeFileSync(file, bytes);
      const bad = await run(verify, { restore_point: id, scratch: { $secret: 'server' }, checks: {} }).catch((e: Error) => e);
      const verdict = bad instanceof Error ? bad.message : JSON.stringify(bad.outputs);
      expect(verdict).toMatch(/sha256/);
      expect(verdict).not.toMatch(/"status":"verified"/);
      const refused = await failureOf(run(mysqlRestoreImpl, { restore_point: id, target: { $secret: 'server' }, database: 'flipped', create_database: true }));
      expect(refused).toMatchObject({ type: 'verification_failed', nonRetryable: true });
      expect(await db.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'flipped'")).toEqual([]);
    },
  );

  it('a wrong password fails at once as auth_failed, not retried, the password masked', { timeout: 60_000 }, async () => {
    const failure = await failureOf(run(mysqlDumpImpl, { source: { $secret: 'wrong' }, service: 'registry-denied' }));
    expect(failure).toMatchObject({ type: 'auth_failed', nonRetryable: true });
    expect(failure.message).toContain('refused user rebound');
    expect(failure.message).not.toContain('not-the-password');
    expect(existsSync(join(root, 'store', 'registry-denied', 'mysql')) ? readdirSync(join(root, 'store', 'registry-denied', 'mysql')) : []).toEqual([]);
  });

  it(
    'the server stopped mid-dump: the attempt fails as retryable with no point left, the password never in argv; after a restart the retry commits one whole point',
    { timeout: 300_000 },
    async () => {
      const relay = await startTcpRelay(db.port);
      try {
        process.env.MYSQL_TEST_RELAYED = db.url('registry').replace(`:${db.port}/`, `:${relay.port}/`);
        // Under a tenth of the dump: the tool is provably mid-stream when the server goes.
        relay.holdAfter(2_000_000);
        const attempt = run(mysqlDumpImpl, { source: { $secret: 'relayed' }, service: 'registry-stopped' }, { run_id: 'stopped-1' }).catch((e: unknown) => e);
        await relay.held();
        const [tool] = childrenNamed(process.pid, 'mariadb-dump');
        expect(tool).toBeDefined();
        const argv = procStrings(tool!, 'cmdline');
        expect(argv.join(' ')).not.toContain(db.password);
        const optionsFile = argv.find((a) => a.startsWith('--defaults-extra-file='))!.split('=')[1]!;
        expect(statSync(optionsFile).mode & 0o777).toBe(0o600);

        await db.stop();
        relay.release();
        const failure = (await attempt) as Error & { type?: string; nonRetryable?: boolean };
        expect(failure).toBeInstanceOf(Error);
        expect(failure).toMatchObject({ nonRetryable: false });
        expect(failure.message).toContain('mariadb-dump');
        expect(failure.message).not.toContain(db.password);
        expect(existsSync(optionsFile)).toBe(false);
        const base = join(root, 'store', 'registry-stopped', 'mysql');
        expect(existsSync(base) ? readdirSync(base) : []).toEqual([]);

        await db.start();
        const retry = await run(mysqlDumpImpl, { source: { $secret: 'relayed' }, service: 'registry-stopped' }, { run_id: 'stopped-1', attempt: 2 });
        expect(readdirSync(base)).toEqual([retry.outputs.restore_point_id]);
        const point = await points().find(retry.outputs.restore_point_id as string);
        expect(dumpText('registry-stopped', point.id)).toContain(`(${ROWS},`);
        const checked = await run(verify, { restore_point: point.id, scratch: { $secret: 'server' }, checks: { min_rows: { runs: ROWS } } });
        expect(checked.outputs).toMatchObject({ status: 'verified' });
      } finally {
        await relay.close();
      }
    },
  );
});
