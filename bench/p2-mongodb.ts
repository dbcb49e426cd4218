// P2 for MongoDB: mongodb.dump of ≥ 1 GB on FerretDB into MinIO vs a bare driver read gzipped to /dev/null (what mongodump --gzip does), with where the CPU goes.
import { createWriteStream, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { compile } from '../compiler/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startFerretDb, type FerretDbServer } from '../stack/ferretdb.ts';
import { startMinio } from '../stack/minio.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { median, workerNodeArgs, type Row } from './report.ts';

const COLLECTIONS = 4;
const PARALLEL = 2;
/** Documents per cursor batch (the action's default, 1000): 10 MB of these 10 KB documents. */
const BATCH = Number(process.env.BENCH_P2M_BATCH ?? 1000);

function procStat(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
}

/** CPU seconds used so far by a process (and, with `children`, the children it has reaped). */
function cpuSeconds(pid: number, children = false): number {
  try {
    const f = procStat(pid);
    // Fields 14–17 of /proc/PID/stat (here from index 11): utime, stime, cutime, cstime, in clock ticks.
    return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) / 100;
  } catch {
    return 0;
  }
}

/** FerretDB plus its PostgreSQL cluster (postmaster, reaped and live backends): the server side of every read. */
function serverCpu(ferret: FerretDbServer): number {
  const postmaster = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ferret.pg.dataDir);
      } catch {
        return false;
      }
    });
  if (!postmaster) return cpuSeconds(ferret.pid()!);
  const backends = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return procStat(pid)[1] === postmaster;
      } catch {
        return false;
      }
    });
  return cpuSeconds(ferret.pid()!) + cpuSeconds(postmaster, true) + backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

const peakRssMb = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'))!
      .replace(/\D+/g, ''),
  ) / 1024;

/** ~`mb` MB of 10 KB documents (base64 of random bytes: gzip saves about a quarter) over COLLECTIONS collections. */
async function seed(url: string, mb: number): Promise<void> {
  const client = await MongoClient.connect(url);
  try {
    const perCollection = Math.ceil((mb * 1024 * 1024) / 10_240 / COLLECTIONS);
    for (let c = 0; c < COLLECTIONS; c++) {
      const coll = client.db('bench').collection<{ _id: number; n: number; body: string }>(`payload${c}`);
      for (let i = 0; i < perCollection; i += 500) {
        const docs = Array.from({ length: Math.min(500, perCollection - i) }, (_, j) => ({
          _id: i + j,
          n: i + j,
          body: randomBytes(7_500).toString('base64'),
        }));
        await coll.insertMany(docs);
      }
    }
  } finally {
    await client.close();
  }
}

/**
 * What the dump costs without Rebound, as `mongodump --gzip` does it: the same collections,
 * PARALLEL at a time, raw batches through gzip at the same level, one stream per collection, to /dev/null.
 */
async function bareRead(url: string, level: number): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const client = await MongoClient.connect(url);
  let bytes = 0;
  try {
    const names = Array.from({ length: COLLECTIONS }, (_, c) => `payload${c}`);
    const lane = async () => {
      for (let name = names.shift(); name; name = names.shift()) {
        const gzip = createGzip({ level });
        const done = pipeline(gzip, createWriteStream('/dev/null'));
        const cursor = client.db('bench').collection(name).find({}, { raw: true, batchSize: BATCH });
        while (await cursor.hasNext()) {
          const batch = Buffer.concat(cursor.readBufferedDocuments() as unknown as Buffer[]);
          bytes += batch.length;
          if (!gzip.write(batch)) await new Promise<void>((r) => gzip.once('drain', () => r()));
        }
        gzip.end();
        await done;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));
  } finally {
    await client.close();
  }
  return { ms: performance.now() - t, bytes };
}

export async function p2Mongo(results: Record<string, unknown>): Promise<Row[]> {
  const mb = Number(process.env.BENCH_P2M_MB ?? 1100);
  const rounds = Number(process.env.BENCH_P2M_ROUNDS ?? 3);
  const compress = Number(process.env.BENCH_P2M_COMPRESS ?? 6);
  const dir = join(DATA, `bench-p2m-${process.pid}`);
  const [ferret, minio, temporal] = await Promise.all([startFerretDb(), startMinio(), startTemporal({ dir })]);
  try {
    const t0 = performance.now();
    await seed(ferret.url(), mb);
    const seedSeconds = (performance.now() - t0) / 1000;
    console.error(`P2 MongoDB: ${mb} MB of documents seeded into FerretDB in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const bundle = await buildWorkflowBundle(join(dir, 'bundle.js'));
    const worker = await startWorkerProcess({
      address: temporal.address,
      site: 'bench-mongo',
      bundle,
      nodeArgs: workerNodeArgs(),
      env: { BIG_MONGO: ferret.url(), MINIO_KEY: minio.accessKey, MINIO_SECRET: minio.secretKey },
      startTimeoutMs: 180_000,
    });
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const planFor = (storage: string) =>
      compile(
        `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: p2-mongodb}\nspec:
  secrets: {big: {env: BIG_MONGO}, key: {env: MINIO_KEY}, secret: {env: MINIO_SECRET}}
  steps:
    - id: dump
      uses: mongodb.dump
      timeout: 1h
      with: {source: "\${{ secrets.big }}", service: big-mongo, include: ["bench.*"], parallel: ${PARALLEL}, batch_size: ${BATCH}, compress: ${compress}, storage: ${storage}}
`,
        { file: 'p2-mongodb.yaml' },
      ).plan!;
    const plans = {
      minio: planFor(`{url: "s3://bench/p2m", endpoint: "${minio.endpoint}", access_key: "\${{ secrets.key }}", secret_key: "\${{ secrets.secret }}"}`),
      file: planFor(`{url: "file://${join(dir, 'store')}"}`),
    };
    let dumpBytes = 0;
    const dump = async (plan: keyof typeof plans) => {
      const t = performance.now();
      const status = await finalStatus(await startRun(client, plans[plan], {}, { taskQueue: 'rebound-bench-mongo' }));
      if (status.state !== 'succeeded') throw new Error(`dump run ${status.state}: ${status.error}`);
      dumpBytes = Number(status.steps[0]!.outputs!.size);
      return performance.now() - t;
    };
    const times: Record<'bare' | 'minio' | 'file', number[]> = { bare: [], minio: [], file: [] };
    const server: Record<'bare' | 'minio' | 'file', number[]> = { bare: [], minio: [], file: [] };
    const workerCpu: Record<'minio' | 'file', number[]> = { minio: [], file: [] };
    let readBytes = 0;
    const variants = {
      bare: async () => {
        const r = await bareRead(ferret.url(), compress);
        readBytes = r.bytes;
        return r.ms;
      },
      minio: () => dump('minio'),
      file: () => dump('file'),
    };
    for (let round = 0; round < rounds; round++) {
      const order = (['bare', 'minio', 'file'] as const).map((_, i, all) => all[(i + round) % all.length]!);
      for (const variant of order) {
        const cpu0 = serverCpu(ferret);
        const w0 = cpuSeconds(worker.child.pid!);
        times[variant].push(await variants[variant]());
        server[variant].push(serverCpu(ferret) - cpu0);
        if (variant !== 'bare') workerCpu[variant].push(cpuSeconds(worker.child.pid!) - w0);
      }
      console.error(
        `P2 MongoDB round ${round + 1}/${rounds}: bare read ${(times.bare.at(-1)! / 1000).toFixed(1)} s (FerretDB+PostgreSQL CPU ${server.bare.at(-1)!.toFixed(1)} s), ` +
          `mongodb.dump → MinIO ${(times.minio.at(-1)! / 1000).toFixed(1)} s (server CPU ${server.minio.at(-1)!.toFixed(1)} s, worker CPU ${workerCpu.minio.at(-1)!.toFixed(1)} s), ` +
          `→ file ${(times.file.at(-1)! / 1000).toFixed(1)} s`,
      );
    }
    const rss = peakRssMb(worker.child.pid!);
    await worker.kill();
    const ratio = median(times.bare) / median(times.minio);
    const fileRatio = median(times.bare) / median(times.file);
    const serverShare = median(server.minio) / (median(times.minio) / 1000);
    results.p2_mongodb = {
      seeded_mb: mb,
      gzip_level: compress,
      seed_s: seedSeconds,
      read_bytes: readBytes,
      dump_bytes: dumpBytes,
      rounds,
      bare_ms: times.bare,
      rebound_ms: times.minio,
      rebound_file_ms: times.file,
      server_cpu_s: server,
      worker_cpu_s: workerCpu,
      throughput_ratio: ratio,
      file_throughput_ratio: fileRatio,
      bare_read_mb_s: readBytes / 2 ** 20 / (median(times.bare) / 1000),
      worker_peak_rss_mb: rss,
    };
    const gib = (readBytes / 2 ** 30).toFixed(2);
    return [
      {
        id: 'P2m',
        what: `mongodb.dump → MinIO vs bare driver read | gzip -${compress} > /dev/null, ${gib} GiB BSON on FerretDB (median of ${rounds})`,
        value: `${ratio.toFixed(3)}× throughput`,
        goal: '≥ 0.90×',
        met: ratio >= 0.9,
      },
      {
        id: 'P2m',
        what: 'mongodb.dump → file store vs the same bare read and gzip',
        value: `${fileRatio.toFixed(3)}× throughput`,
        goal: '(diagnostic)',
        met: fileRatio >= 0.9,
      },
      {
        id: 'P2m',
        what: 'FerretDB + PostgreSQL CPU per second of the MinIO dump (cores busy serving the reads)',
        value: `${serverShare.toFixed(2)} cores; bare read ${(readBytes / 2 ** 20 / (median(times.bare) / 1000)).toFixed(1)} MB/s`,
        goal: '(diagnostic)',
        met: true,
      },
      { id: 'P2m', what: 'worker peak RSS during those dumps', value: `${rss.toFixed(0)} MB`, goal: '< 300 MB', met: rss < 300 },
    ];
  } finally {
    await temporal.stop();
    await minio.stop();
    await ferret.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
