// Benchmark P2: postgres.dump of a ≥ 1 GB database into MinIO and a file store vs bare pg_dump, and the worker's peak RSS.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { pgTool } from '../activities/postgres/connection.ts';
import { compile } from '../compiler/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startMinio } from '../stack/minio.ts';
import { startPostgres } from '../stack/postgres.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { median, workerNodeArgs, type Row } from './report.ts';

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/**
 * P2: postgres.dump of a ≥ 1 GB database into MinIO, through a real worker process, vs
 * bare `pg_dump -Fc > /dev/null` in the same run, alternating: throughput ratio and the
 * worker's peak RSS.
 */
export async function p2(results: Record<string, unknown>): Promise<Row[]> {
  const rows = Number(process.env.BENCH_P2_ROWS ?? 8_000_000);
  const rounds = Number(process.env.BENCH_P2_ROUNDS ?? 3);
  // BENCH_P2_FILE=0 leaves out the diagnostic file-store dumps (a third of the bench's time).
  const withFile = process.env.BENCH_P2_FILE !== '0';
  const pg = await startPostgres();
  const minio = await startMinio();
  const temporal = await startTemporal({ dir: join(DATA, `bench-p2-${process.pid}`) });
  try {
    await pg.query('create database big');
    const t0 = performance.now();
    await pg.query(
      `create table payload as select g as id, md5(g::text) || md5((g * 31)::text) || md5((g * 17)::text) as body, now() as at from generate_series(1, ${rows}) g`,
      [],
      'big',
    );
    const [{ size }] = await pg.query<{ size: string }>("select pg_database_size('big') as size");
    console.error(`P2: database of ${(Number(size) / 2 ** 30).toFixed(2)} GiB seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    const bundle = await buildWorkflowBundle(join(DATA, `bench-p2-${process.pid}`, 'bundle.js'));
    const worker = await startWorkerProcess({
      address: temporal.address,
      site: 'bench',
      bundle,
      nodeArgs: workerNodeArgs(),
      env: { BIG_PG: pg.url('big'), MINIO_KEY: minio.accessKey, MINIO_SECRET: minio.secretKey },
    });
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const planFor = (storage: string) =>
      compile(
        `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: p2}\nspec:
  secrets: {big: {env: BIG_PG}, key: {env: MINIO_KEY}, secret: {env: MINIO_SECRET}}
  steps:
    - id: dump
      uses: postgres.dump
      timeout: 1h
      with:
        source: \${{ secrets.big }}
        service: big-pg
        storage: ${storage}
`,
        { file: 'p2.yaml' },
      ).plan!;
    const s3Plan = planFor(`{url: "s3://bench/p2", endpoint: "${minio.endpoint}", access_key: "\${{ secrets.key }}", secret_key: "\${{ secrets.secret }}"}`);
    // The same dump into a file store: Rebound's own overhead, without MinIO's CPU.
    const filePlan = planFor(`{url: "file://${join(DATA, `bench-p2-${process.pid}`, 'store')}"}`);

    const bare = async () => {
      const t = performance.now();
      const url = new URL(pg.url('big'));
      await new Promise<void>((resolve, reject) => {
        const child = spawn(pgTool('pg_dump'), ['--host', url.hostname, '--port', url.port, '--username', url.username, '--dbname', 'big', '-Fc'], {
          env: { ...process.env, PGPASSWORD: pg.password },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        child.stdout.pipe(createWriteStream('/dev/null'));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited ${code}`))));
      });
      return performance.now() - t;
    };
    let bytes = 0;
    const rebound = async (plan = s3Plan) => {
      const t = performance.now();
      const status = await finalStatus(await startRun(client, plan, {}, { taskQueue: 'rebound-bench' }));
      if (status.state !== 'succeeded') throw new Error(`dump run ${status.state}: ${status.error}`);
      bytes = Number(status.steps[0]!.outputs!.size);
      return performance.now() - t;
    };
    const bareMs: number[] = [];
    const reboundMs: number[] = [];
    const fileMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so drift on the machine hits every variant alike.
      const order = [
        () => bare().then((t) => bareMs.push(t)),
        () => rebound().then((t) => reboundMs.push(t)),
        () => rebound(filePlan).then((t) => fileMs.push(t)),
      ].slice(0, withFile ? 3 : 2);
      for (let i = 0; i < order.length; i++) await order[(i + round) % order.length]!();
      console.error(
        `P2 round ${round + 1}/${rounds}: bare pg_dump ${(bareMs.at(-1)! / 1000).toFixed(1)} s, postgres.dump → MinIO ${(reboundMs.at(-1)! / 1000).toFixed(1)} s, → file ${withFile ? `${(fileMs.at(-1)! / 1000).toFixed(1)} s` : '(left out)'}`,
      );
    }
    const rss = peakRssMb(worker.child.pid!);
    await worker.kill();
    const ratio = median(bareMs) / median(reboundMs);
    const fileRatio = withFile ? median(bareMs) / median(fileMs) : undefined;
    results.p2 = {
      database_bytes: Number(size),
      dump_bytes: bytes,
      rounds,
      bare_ms: bareMs,
      rebound_ms: reboundMs,
      rebound_file_ms: fileMs,
      throughput_ratio: ratio,
      file_throughput_ratio: fileRatio,
      worker_peak_rss_mb: rss,
    };
    return [
      {
        id: 'P2',
        what: `postgres.dump → MinIO vs pg_dump -Fc > /dev/null, ${(Number(size) / 2 ** 30).toFixed(2)} GiB (median of ${rounds})`,
        value: `${ratio.toFixed(3)}× throughput`,
        goal: '≥ 0.90×',
        met: ratio >= 0.9,
      },
      ...(withFile
        ? [
            {
              id: 'P2',
              what: 'postgres.dump → file store vs the same bare pg_dump (no MinIO CPU)',
              value: `${fileRatio!.toFixed(3)}× throughput`,
              goal: '(diagnostic)',
              met: fileRatio! >= 0.9,
            },
          ]
        : []),
      { id: 'P2', what: 'worker peak RSS during those dumps', value: `${rss.toFixed(0)} MB`, goal: '< 300 MB', met: rss < 300 },
    ];
  } finally {
    await temporal.stop();
    await minio.stop();
    await pg.destroy();
    rmSync(join(DATA, `bench-p2-${process.pid}`), { recursive: true, force: true });
  }
}
