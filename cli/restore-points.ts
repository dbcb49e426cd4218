// `rebound restore-points`: list, show, latest, sets, windows, sync the catalog from storage, verify a point via backup.verify, preview retention.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CatalogIndex } from '../activities/restore-points/catalog.ts';
import { closeCatalogs, ignoredReport, openRestorePoints, type RestorePoint, type RestorePoints } from '../activities/restore-points/index.ts';
import { pointsToKeep } from '../activities/restore-points/retention.ts';
import { defaultStorage } from '../activities/restore-points/object-store.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { compile } from '../compiler/index.ts';
import { connectClient } from '../client/connection.ts';
import { runCommand } from './commands.ts';
import { restorePointsCheckCommand } from './restore-points-check.ts';
import { restorePointsWindowsCommand } from './restore-points-windows.ts';
import { table } from './table.ts';

/** Storage for the CLI: --storage, else the worker's default; S3 credentials from the AWS environment. */
function store(url?: string): RestorePoints {
  const config = defaultStorage();
  return openRestorePoints(url ? { ...config, url, ...(process.env.REBOUND_S3_ENDPOINT ? { endpoint: process.env.REBOUND_S3_ENDPOINT } : {}) } : config);
}

function time(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} expects a time such as 2026-11-24T10:00:00Z, not "${value}"`);
  return new Date(ms).toISOString();
}

function print(points: RestorePoint[], json: boolean): void {
  if (json) return void console.log(JSON.stringify(points, null, 2));
  if (!points.length) return void console.log('no restore points');
  const rows = [
    ['ID', 'SERVICE', 'KIND', 'STATUS', 'COMPLETED', 'SIZE', 'SET'],
    ...points.map((p) => [p.id, p.service, p.kind, p.status, p.completed_at, String(p.size), p.set_id]),
  ];
  console.log(table(rows));
}

/** The one-step runbook `restore-points verify` runs; secrets stay on the worker, named by its environment variables. */
function verifyRunbook(id: string, o: { scratchEnv?: string; etcdUser?: string; etcdPasswordEnv?: string; storage?: string; manifestKeyEnv?: string }): string {
  if (!o.etcdUser !== !o.etcdPasswordEnv)
    throw new UsageError('--etcd-user and --etcd-password-env go together: the user, and the variable holding its password');
  if (o.manifestKeyEnv && !o.storage) throw new UsageError("--manifest-key-env needs --storage (without it the worker's default store and key are used)");
  const secrets = {
    ...(o.scratchEnv ? { scratch: { env: o.scratchEnv } } : {}),
    ...(o.etcdPasswordEnv ? { etcd_password: { env: o.etcdPasswordEnv } } : {}),
    ...(o.manifestKeyEnv ? { manifest_key: { env: o.manifestKeyEnv } } : {}),
  };
  const input = {
    restore_point: id,
    ...(o.scratchEnv ? { scratch: '${{ secrets.scratch }}' } : {}),
    ...(o.etcdUser ? { auth: { user: o.etcdUser, password: '${{ secrets.etcd_password }}' } } : {}),
    ...(o.storage ? { storage: { url: o.storage, ...(o.manifestKeyEnv ? { manifest_key: '${{ secrets.manifest_key }}' } : {}) } } : {}),
  };
  const runbook = {
    apiVersion: 'rebound/v1',
    kind: 'Runbook',
    metadata: { name: 'verify-restore-point' },
    spec: { secrets, steps: [{ id: 'verify', uses: 'backup.verify', with: input }] },
  };
  return stringify(runbook);
}

/** Manifests a listing of storage passed over (planted, misplaced, unsigned) go to stderr: stdout stays the answer. */
function warnIgnored(points: RestorePoints): void {
  const report = ignoredReport(points.ignored());
  if (report) console.error(`warning: ${report}`);
}

async function withIndex<T>(storage: string | undefined, fn: (points: RestorePoints) => Promise<T>): Promise<T> {
  try {
    return await fn(store(storage));
  } finally {
    await closeCatalogs();
  }
}

export function registerRestorePoints(cli: Command): void {
  const rp = cli.command('restore-points').description('list, find, verify and prune restore points ($REBOUND_CATALOG_URL, else storage is listed)');
  const common = (c: Command) => c.option('--storage <url>', 'storage URL (default: $REBOUND_STORAGE_URL or the embedded file store)').option('--json');
  restorePointsCheckCommand(rp, store);
  restorePointsWindowsCommand(rp, store);

  common(
    rp
      .command('list')
      .option('--service <s>')
      .option('--before <time>')
      .option('--status <status...>', 'unverified, verified, failed')
      .option('--limit <n>', 'rows', (v) => Number(v), 50),
  )
    .description('restore points, newest first')
    .action(async (o) =>
      withIndex(o.storage, async (index) => {
        print(await index.list({ service: o.service, before: time(o.before, '--before'), status: o.status, limit: o.limit }), !!o.json);
        warnIgnored(index);
      }),
    );

  common(rp.command('show').argument('<id>'))
    .description('one restore point, with its manifest')
    .action(async (id: string, o) =>
      withIndex(o.storage, async (index) => {
        const point = await index.get(id);
        if (!point) throw new CommandFailed(`no restore point ${id}`);
        console.log(JSON.stringify(point, null, 2));
      }),
    );

  common(rp.command('latest').requiredOption('--service <s>').option('--before <time>').option('--verified', 'only verified points'))
    .description('the latest restore point of a service (before a time)')
    .action(async (o) =>
      withIndex(o.storage, async (index) => {
        const point = await index.latest(o.service, { before: time(o.before, '--before'), verified: !!o.verified });
        if (!point) throw new CommandFailed(`no ${o.verified ? 'verified ' : ''}restore point of ${o.service}${o.before ? ` before ${o.before}` : ''}`);
        print([point], !!o.json);
      }),
    );

  common(
    rp
      .command('sets')
      .option('--before <time>', 'the newest set completed before this time ("everything as of 02:00")')
      .option('--service <s...>', 'only sets holding a point of each of these services')
      .option('--verified', 'only sets whose every point is verified')
      .option('--set <id>', 'this set'),
  )
    .description('the newest complete set: points one run took of several services, none failed')
    .action(async (o) =>
      withIndex(o.storage, async (index) => {
        const set = await index.newestSet({ before: time(o.before, '--before'), services: o.service, verified: !!o.verified, set_id: o.set });
        if (!set.length)
          throw new CommandFailed(
            `no ${o.verified ? 'verified' : 'complete'} set${o.before ? ` before ${o.before}` : ''}${o.service ? ` holding ${o.service.join(', ')}` : ''}`,
          );
        print(set, !!o.json);
      }),
    );

  common(rp.command('sync'))
    .description('rebuild the catalog index from storage, the source of truth')
    .action(async (o) => {
      const url = process.env.REBOUND_CATALOG_URL;
      if (!url) throw new UsageError('sync needs REBOUND_CATALOG_URL (the catalog database)');
      const s = store(o.storage);
      const points = await s.scan();
      const catalog = new CatalogIndex(url);
      try {
        await catalog.replaceAll(points, s.url);
      } finally {
        await catalog.close();
      }
      const ignored = s.ignored();
      if (o.json) return void console.log(JSON.stringify({ synced: points.length, storage: s.url, ignored }));
      console.log(`indexed ${points.length} restore point(s) from ${s.url}`);
      warnIgnored(s);
    });

  common(
    rp
      .command('verify')
      .argument('<id>')
      .option(
        '--scratch-env <VAR>',
        "the worker's environment variable holding the scratch server's URL (PostgreSQL and MongoDB points; RabbitMQ and search optionally)",
      )
      .option('--etcd-user <user>', 'etcd points taken with authentication on: a user of the restored data who may read every key')
      .option('--etcd-password-env <VAR>', "the worker's environment variable holding that user's password")
      .option('--manifest-key-env <VAR>', "with --storage: the worker's environment variable holding the store's manifest key")
      .option('--site <site>', 'run on the workers of this site'),
  )
    .description('verify a restore point now: a one-step run of backup.verify on a worker')
    .action(async (id: string, o) => {
      const { plan, errors } = compile(verifyRunbook(id, o), { file: '(restore-points verify)' });
      if (!plan) throw new UsageError(errors.map((e) => e.message).join('; '));
      await runCommand(connectClient, plan, { param: [], json: o.json, site: o.site });
    });

  common(
    rp
      .command('prune')
      .option('--service <s>')
      .option('--keep-last <n>', '', Number, 0)
      .option('--keep-daily <n>', '', Number, 0)
      .option('--keep-weekly <n>', '', Number, 0)
      .option('--keep-monthly <n>', '', Number, 0)
      .option('--min-keep <n>', '', Number, 1)
      .option('--dry-run', 'only show what would go'),
  )
    .description('show what a retention policy would delete (deleting is the restore_points.prune action, run as a runbook)')
    .action(async (o) => {
      if (!o.dryRun) throw new UsageError('the CLI only previews retention: pass --dry-run, and run restore_points.prune from a runbook to delete');
      const points = await store(o.storage).scan(o.service);
      const services = [...new Set(points.map((p) => p.service))];
      const policy = { keep_last: o.keepLast, keep_daily: o.keepDaily, keep_weekly: o.keepWeekly, keep_monthly: o.keepMonthly, min_keep: o.minKeep };
      const deleted = services.flatMap((s) => {
        const group = points.filter((p) => p.service === s);
        const keep = pointsToKeep(group, policy);
        return group.filter((p) => !keep.has(p.id));
      });
      if (o.json) console.log(JSON.stringify({ would_delete: deleted.map((p) => p.id), keep: points.length - deleted.length }));
      else print(deleted, false);
    });
}
