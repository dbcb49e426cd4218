// P9: objects.check over 100,000 objects at each of two MinIO sites: objects compared per second (listing both sites and comparing).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { objectsCheckImpl } from '../activities/objects/replicas.ts';
import { toActivity } from '../test/helpers/activity.ts';
import type { ActionInput, ActionResult } from '../contract/run.ts';
import { startMinio, type MinioServer } from '../stack/minio.ts';
import { median, type Row } from './report.ts';

const client = (m: MinioServer) =>
  new S3Client({ region: 'us-east-1', endpoint: m.endpoint, forcePathStyle: true, credentials: { accessKeyId: m.accessKey, secretAccessKey: m.secretKey } });

/** `count` tiny objects under bench/, written to both sites, 64 at a time. */
async function seed(sites: MinioServer[], count: number): Promise<void> {
  for (const m of sites) {
    const s3 = client(m);
    await s3.send(new CreateBucketCommand({ Bucket: 'replica' }));
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const i = next++;
        await s3.send(new PutObjectCommand({ Bucket: 'replica', Key: `bench/${String(i).padStart(6, '0')}.txt`, Body: `object ${i}` }));
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
  }
}

export async function p9(results: Record<string, unknown>): Promise<Row[]> {
  const count = Number(process.env.BENCH_P9_OBJECTS ?? 100_000);
  const rounds = Number(process.env.BENCH_P9_ROUNDS ?? 3);
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'rebound-p9-')));
  const sites = await Promise.all(dirs.map((dir) => startMinio({ dir })));
  try {
    const t0 = performance.now();
    await seed(sites, count);
    console.error(`P9: ${count} objects at each site in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    process.env.BENCH_P9_A = sites[0]!.secretKey;
    process.env.BENCH_P9_B = sites[1]!.secretKey;
    const site = (m: MinioServer, secret: string) => ({
      url: 's3://replica/bench',
      endpoint: m.endpoint,
      access_key: m.accessKey,
      secret_key: { $secret: secret },
    });
    const input: ActionInput = {
      runbook: 'p9',
      run_id: 'p9',
      step: 'check',
      backend: 'objects',
      simulate: false,
      max_attempts: 1,
      with: { source: site(sites[0]!, 'a'), replica: site(sites[1]!, 'b') },
      secrets: { a: { env: 'BENCH_P9_A' }, b: { env: 'BENCH_P9_B' } },
    };
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      const out = (await new MockActivityEnvironment().run(toActivity(objectsCheckImpl), input)) as ActionResult;
      if (out.outputs.missing !== 0) throw new Error('the sites should be in sync');
      rates.push((2 * count) / ((performance.now() - t) / 1000));
      console.error(`P9 round ${r + 1}/${rounds}: ${rates.at(-1)!.toFixed(0)} objects compared per second`);
    }
    results.p9 = { objects_per_site: count, rounds, objects_per_second: rates };
    return [
      {
        id: 'P9',
        what: `objects.check of ${count} objects at each of two MinIO sites (median of ${rounds})`,
        value: `${median(rates).toFixed(0)} objects/s`,
        goal: '(reported)',
        met: true,
      },
    ];
  } finally {
    await Promise.all(sites.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
