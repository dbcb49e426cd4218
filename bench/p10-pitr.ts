// P10: pgbackrest.restore of a ≥ 1 GB cluster to a time through a worker vs the bare `pgbackrest restore` + recovery a DBA runs, same run, alternating; and the archive lag under pgbench load.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { compile } from '../compiler/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startArchivingCluster, type ArchivingCluster } from '../stack/pgbackrest.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { median, percentile, workerNodeArgs, type Row } from './report.ts';

const BIN = '/usr/lib/postgresql/15/bin';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** As the repository's owner, like the cluster's own archive-push. */
function asOwner(cluster: ArchivingCluster) {
  const { uid, gid } = statSync(cluster.dir);
  return process.getuid?.() === 0 ? { uid, gid } : {};
}

/** The DBA's way: pgbackrest restore --type=time into a fresh folder, postgres on it until promoted, the same check, stop, remove. */
async function bareRestore(cluster: ArchivingCluster, target: string): Promise<number> {
  const t = performance.now();
  const folder = join(cluster.dir, `bare-${Date.now()}`);
  const owner = asOwner(cluster);
  mkdirSync(join(folder, 'data'), { recursive: true, mode: 0o700 });
  spawnSync('chown', ['-R', `${statSync(cluster.dir).uid}:${statSync(cluster.dir).gid}`, folder]);
  const pgTime = new Date(target).toISOString().replace('T', ' ').replace('Z', '+00');
  const args = [`--config=${cluster.configFile}`, `--stanza=${cluster.stanza}`, `--pg1-path=${join(folder, 'data')}`, '--type=time', `--target=${pgTime}`];
  const restore = spawnSync('pgbackrest', [...args, '--target-action=promote', 'restore'], {
    ...owner,
    encoding: 'utf8',
    env: { ...process.env, PGBACKREST_REPO1_CIPHER_PASS: cluster.cipherPass },
    cwd: folder,
  });
  if (restore.status !== 0) throw new Error(`bare pgbackrest restore: ${restore.stderr}`);
  const settings = ['-c', 'port=5432', '-c', 'listen_addresses=', '-c', `unix_socket_directories=${folder}`, '-c', 'archive_mode=off'];
  const server = spawn(join(BIN, 'postgres'), ['-D', join(folder, 'data'), ...settings], {
    ...owner,
    stdio: 'ignore',
    cwd: folder,
    env: { ...process.env, PGBACKREST_REPO1_CIPHER_PASS: cluster.cipherPass },
  });
  try {
    for (;;) {
      const c = new pg.Client({ host: folder, port: 5432, user: 'rebound', database: 'postgres' });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const [row] = (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows;
        if (!row!.r) {
          // What the Rebound step's check does: the table is there.
          await c.query("select 1 from pg_catalog.pg_tables where tablename = 'pgbench_accounts'");
          return performance.now() - t;
        }
      } catch {
        // starting up, or still replaying
      } finally {
        await c.end().catch(() => undefined);
      }
      await sleep(200);
    }
  } finally {
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
    rmSync(folder, { recursive: true, force: true });
  }
}

/** pgbench for `seconds` while sampling the archive lag: now − the newest segment's archive time, the RPO a failure then would cost. */
async function archiveLag(cluster: ArchivingCluster, seconds: number): Promise<number[]> {
  const load = spawn(
    join(BIN, 'pgbench'),
    ['-n', '-c', '2', '-T', String(seconds), '-h', '127.0.0.1', '-p', String(cluster.pg.port), '-U', 'rebound', 'postgres'],
    {
      stdio: 'ignore',
      env: { ...process.env, PGPASSWORD: cluster.pg.password },
    },
  );
  const exited = new Promise((r) => load.once('exit', r));
  const lags: number[] = [];
  let done = false;
  void exited.then(() => (done = true));
  await sleep(2_000);
  while (!done) {
    const [row] = await cluster.pg.query<{ lag: number }>('select extract(epoch from now() - last_archived_time) * 1000 as lag from pg_stat_archiver');
    lags.push(Number(row!.lag));
    await sleep(500);
  }
  return lags;
}

export async function p10(results: Record<string, unknown>): Promise<Row[]> {
  const scale = Number(process.env.BENCH_P10_SCALE ?? 70); // pgbench scale 70 ≈ 1.05 GB
  const rounds = Number(process.env.BENCH_P10_ROUNDS ?? 3);
  const dir = join(DATA, `bench-p10-${process.pid}`);
  const [cluster, temporal] = await Promise.all([startArchivingCluster({ archiveTimeout: '10s' }), startTemporal({ dir })]);
  try {
    const init = spawnSync(
      join(BIN, 'pgbench'),
      ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', String(cluster.pg.port), '-U', 'rebound', 'postgres'],
      {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: cluster.pg.password },
      },
    );
    if (init.status !== 0) throw new Error(`pgbench -i: ${init.stderr}`);
    const [{ size }] = (await cluster.pg.query<{ size: string }>("select pg_database_size('postgres')::text as size")) as [{ size: string }];
    const bundle = await buildWorkflowBundle(join(dir, 'bundle.js'));
    const worker = await startWorkerProcess({
      address: temporal.address,
      site: 'bench-pitr',
      bundle,
      nodeArgs: workerNodeArgs(),
      env: { PGBR_CIPHER: cluster.cipherPass },
      startTimeoutMs: 180_000,
    });
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const run = async (steps: string) => {
      const plan = compile(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: p10}\nspec:\n  secrets: {cipher: {env: PGBR_CIPHER}}\n  steps:\n${steps}`, {
        file: 'p10.yaml',
      }).plan!;
      const status = await finalStatus(await startRun(client, plan, {}, { taskQueue: 'rebound-bench-pitr' }));
      if (status.state !== 'succeeded') throw new Error(`p10 run ${status.state}: ${status.error}`);
      return status.steps[0]!.outputs!;
    };
    const c = cluster.backupWith('cipher') as { cluster: unknown; repository: { path: string } };
    const storage = `{url: "file://${join(dir, 'store')}"}`;
    const backup = await run(
      `    - id: backup\n      uses: pgbackrest.backup\n      timeout: 1h\n      with: {service: bench-pg, stanza: ${cluster.stanza}, repository: {path: "${c.repository.path}", cipher_pass: "\${{ secrets.cipher }}"}, cluster: ${JSON.stringify(c.cluster)}, storage: ${storage}}\n`,
    );
    const lags = await archiveLag(cluster, Number(process.env.BENCH_P10_LOAD_S ?? 60));
    const [{ t }] = (await cluster.pg.query<{ t: Date }>('select clock_timestamp() as t')) as [{ t: Date }];
    await sleep(15_000); // past the archive timeout: the target's segment is in the repository
    const target = t.toISOString();
    const restoreStep = `    - id: restore\n      uses: pgbackrest.restore\n      timeout: 1h\n      heartbeat_timeout: 1m\n      with: {restore_point: ${backup.restore_point_id}, target: {time: "${target}"}, checks: {tables: [pgbench_accounts]}, pgbackrest: {cipher_pass: "\${{ secrets.cipher }}"}, storage: ${storage}}\n`;
    const times = { bare: [] as number[], rebound: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 ? (['rebound', 'bare'] as const) : (['bare', 'rebound'] as const)) {
        const t0 = performance.now();
        if (variant === 'bare') times.bare.push(await bareRestore(cluster, target));
        else times.rebound.push((await run(restoreStep), performance.now() - t0));
      }
      console.error(
        `P10 round ${round + 1}/${rounds}: bare ${(times.bare.at(-1)! / 1000).toFixed(1)} s, pgbackrest.restore ${(times.rebound.at(-1)! / 1000).toFixed(1)} s`,
      );
    }
    await worker.kill();
    const ratio = median(times.bare) / median(times.rebound);
    const worstLag = Math.max(...lags);
    results.p10 = { database_bytes: Number(size), scale, rounds, bare_ms: times.bare, rebound_ms: times.rebound, ratio, archive_lag_ms: lags };
    return [
      {
        id: 'P10',
        what: `pgbackrest.restore to a time into scratch vs bare pgbackrest restore + recovery, ${(Number(size) / 2 ** 30).toFixed(2)} GiB (median of ${rounds})`,
        value: `${ratio.toFixed(3)}× speed`,
        goal: '≥ 0.95×',
        met: ratio >= 0.95,
      },
      {
        id: 'P10',
        what: `archive lag under pgbench (archive_timeout=10s, ${lags.length} samples): max, p99`,
        value: `${(worstLag / 1000).toFixed(1)} s, ${(percentile(lags, 99) / 1000).toFixed(1)} s`,
        goal: '≤ 15 s',
        met: worstLag <= 15_000,
      },
    ];
  } finally {
    await temporal.stop();
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
