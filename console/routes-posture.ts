// The posture, restore-point and drill-history routes: engineer P's renderers (console/views/) over client/posture.ts and client/drill-history.ts, for the runbooks and restore points the console was started with.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Plan } from '../contract/plan.ts';
import { loadDrillHistory } from '../client/drill-history.ts';
import { loadPosture, type PointRecord, type RestorePoints } from '../client/posture.ts';
import { callerOf, problem, render, type ConsoleDeps } from './context.ts';
import { esc, table } from './html.ts';
import { renderDrillHistory } from './views/drills.ts';
import { renderPosture } from './views/posture.ts';
import { renderRestorePoints, type RestorePointsInput } from './views/restore-points.ts';
import { loadEvidence, type EvidenceSource } from './evidence.ts';
import { registerVerifyRoute } from './routes-verify.ts';
import { pointActions, pointNote } from './views/point-actions.ts';

export interface PostureSource {
  /** The runbooks compiled from --runbooks (read again on reload). */
  runbooks: () => { file: string; plan: Plan }[];
  /** The restore-point catalog (--storage); openRestorePoints(storage) is one. */
  points?: RestorePoints &
    Partial<EvidenceSource> & {
      latest?(service: string, options: { before?: string; verified?: boolean }): Promise<PointRecord | undefined>;
      get?(id: string): Promise<PointRecord | undefined>;
    };
  /** --storage, when given: verifications started here name it; absent, the worker's default store (and key) is the console's too. */
  storageUrl?: string;
}

/** Points the restore-points page reads at once (newest first). */
const POINTS_SHOWN = 2000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function time(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function runbookList(source: PostureSource): string {
  const rows = source
    .runbooks()
    .map(({ file, plan }) => [
      `<a href="/runbooks/${encodeURIComponent(plan.name)}/drills">${esc(plan.name)}</a>`,
      `<code>${esc(file)}</code>`,
      esc(plan.description ?? ''),
    ]);
  return rows.length ? table('Runbooks', ['Runbook', 'File', 'Description'], rows) : '<p>No runbooks: start the console with --runbooks DIR.</p>';
}

/** The page for the caller: verdicts with their evidence, and for approvers the verify forms. */
async function pointsPage(deps: ConsoleDeps, source: PostureSource, request: FastifyRequest, input: RestorePointsInput): Promise<string> {
  const caller = callerOf(request);
  const open = source.points?.open?.bind(source.points);
  const shown = input.service ? input.points.filter((p) => p.service === input.service) : input.points;
  const evidence = open ? await loadEvidence({ open }, shown) : undefined;
  const actions = pointActions(caller.person.role, deps.csrf.token(caller.principal));
  return `${pointNote(caller.person.role)}\n${renderRestorePoints({ ...input, ...(evidence ? { evidence } : {}), ...(actions ? { actions } : {}) })}`;
}

export function registerPostureRoutes(app: FastifyInstance, deps: ConsoleDeps, source: PostureSource = { runbooks: () => [] }): void {
  app.get('/', async (request, reply) => {
    const posture = await loadPosture({ client: deps.client, runbooks: source.runbooks(), ...(source.points ? { points: source.points } : {}) });
    return render(deps, request, reply, 'Posture', renderPosture(posture));
  });

  app.get<{ Querystring: { service?: string } }>('/restore-points', async (request, reply) => {
    if (!source.points) return problem(deps, request, reply, 404, 'Restore points', 'No restore-point storage: start the console with --storage URL.');
    const service = request.query.service && NAME.test(request.query.service) ? request.query.service : undefined;
    const points = await source.points.list({ ...(service ? { service } : {}), limit: POINTS_SHOWN });
    const body = await pointsPage(deps, source, request, { points, now: Date.now(), ...(service ? { service } : {}) });
    return render(deps, request, reply, 'Restore points', body);
  });

  app.get<{ Querystring: { service?: string; before?: string } }>('/restore-points/latest', async (request, reply) => {
    const points = source.points;
    const service = request.query.service ?? '';
    if (!points?.latest || !NAME.test(service))
      return problem(deps, request, reply, 400, 'Restore points', 'Give a service name (and storage with --storage).');
    const before = time(request.query.before);
    const point = await points.latest(service, { verified: true, ...(before ? { before } : {}) });
    const list = await points.list({ service, limit: POINTS_SHOWN });
    const latest = { service, ...(before ? { before } : {}), ...(point ? { point } : {}) };
    return render(deps, request, reply, 'Restore points', await pointsPage(deps, source, request, { points: list, now: Date.now(), service, latest }));
  });

  registerVerifyRoute(app, deps, source);

  app.get('/runbooks', (request, reply) => render(deps, request, reply, 'Drill history', runbookList(source)));

  app.get<{ Params: { name: string } }>('/runbooks/:name/drills', async (request, reply) => {
    const { name } = request.params;
    if (!NAME.test(name)) return problem(deps, request, reply, 404, 'Drill history', 'No such runbook.');
    const records = await loadDrillHistory(deps.client, name);
    return render(deps, request, reply, `Drill history: ${name}`, renderDrillHistory(name, records));
  });
}
