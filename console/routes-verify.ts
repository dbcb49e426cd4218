// POST /restore-points/verify: an approver starts backup.verify of one point (a one-step plan, signed and started as the failback route starts its plans) and is sent to the run's page.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { startRun } from '../client/runs.ts';
import { callerOf, problem, requireApprover, type ConsoleDeps } from './context.ts';
import type { PostureSource } from './routes-posture.ts';
import { ENV_NAME, verifyPlan } from './verify-plan.ts';

type VerifyRequest = FastifyRequest<{ Body: Record<string, string | undefined> }>;

/** A point id as the actions make them (time, then a hash), with room for other stores' ids. */
const POINT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function registerVerifyRoute(app: FastifyInstance, deps: ConsoleDeps, source: PostureSource): void {
  app.post('/restore-points/verify', async (request: VerifyRequest, reply) => {
    if (!requireApprover(deps, request, reply)) return reply;
    const point = request.body?.point ?? '';
    const scratchEnv = (request.body?.scratch_env ?? '').trim();
    if (!POINT_ID.test(point)) return problem(deps, request, reply, 400, 'Verify', 'Name a restore point (its id).');
    if (scratchEnv && !ENV_NAME.test(scratchEnv))
      return problem(deps, request, reply, 400, 'Verify', 'The scratch field names an environment variable of the worker (e.g. PG_SCRATCH_URL), not a URL.');
    // A point the console cannot see is not started blind: the worker would only fail later.
    if (source.points?.get && !(await source.points.get(point))) return problem(deps, request, reply, 404, 'Verify', `No restore point ${point}.`);
    const { plan, error } = verifyPlan({ point, ...(scratchEnv ? { scratchEnv } : {}), ...(source.storageUrl ? { storageUrl: source.storageUrl } : {}) });
    if (!plan) return problem(deps, request, reply, 400, 'Verify', error ?? 'the verification plan did not compile');
    const person = callerOf(request).person;
    const handle = await startRun(deps.client, plan, {}, { taskQueue: deps.taskQueue, startedBy: person.name });
    deps.log('info', 'verification started', { point, run: handle.workflowId, by: person.name, via: 'console' });
    return reply.redirect(`/runs/${encodeURIComponent(handle.workflowId)}`, 303);
  });
}
