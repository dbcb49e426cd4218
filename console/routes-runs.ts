// The runs routes: the filtered list, a run's page and the fragment live.js polls, a vote cast from the page, cancel, the run's report, and its failback plan and start.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { castVote, recordedVote, VoteError } from '../client/approvals.ts';
import { buildFailback, FailbackError } from '../client/failback.ts';
import { loadRunRecord, type RunRecord } from '../client/record.ts';
import { buildReport } from '../client/report/build.ts';
import { renderHtml } from '../client/report/render.ts';
import { LIST_STATES, LIST_TRIGGERS, listRuns, type RunFilters } from '../client/run-list.ts';
import { startRun } from '../client/runs.ts';
import type { Mode } from '../contract/plan.ts';
import { callerOf, problem, render, requireApprover, send, type ConsoleDeps } from './context.ts';
import { reportCsp } from './security.ts';
import { renderFailback } from './views/failback.ts';
import { renderRun, renderRunLive, type RunView } from './views/run.ts';
import { renderRuns } from './views/runs.ts';

type RunRequest = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined>; Body: Record<string, string | undefined> }>;

/** How long a vote's answer waits for the worker to record it, so the page shows it counted or refused. */
const RECORD_WAIT_MS = 15_000;

function filtersOf(query: Record<string, string | undefined>): RunFilters {
  const pick = <T extends string>(value: string | undefined, allowed: readonly T[]) => (allowed.includes(value as T) ? (value as T) : undefined);
  const name = (value: string | undefined) => (value && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value) ? value : undefined);
  return {
    ...(name(query.runbook) ? { runbook: name(query.runbook) } : {}),
    ...(pick(query.mode, ['run', 'drill']) ? { mode: query.mode } : {}),
    ...(pick(query.state, LIST_STATES) ? { state: pick(query.state, LIST_STATES) } : {}),
    ...(pick(query.trigger, LIST_TRIGGERS) ? { trigger: pick(query.trigger, LIST_TRIGGERS) } : {}),
  };
}

/** The run's record, or undefined (after answering 404) when there is no such run. */
async function recordOr404(deps: ConsoleDeps, request: RunRequest, reply: FastifyReply): Promise<RunRecord | undefined> {
  try {
    return await loadRunRecord(deps.client, request.params.id);
  } catch (error) {
    const message =
      (error as Error).name === 'WorkflowNotFoundError' ? `No run ${request.params.id}.` : `Cannot read run ${request.params.id}: ${(error as Error).message}`;
    void problem(deps, request, reply, 404, 'Run not found', message);
    return undefined;
  }
}

function viewOf(deps: ConsoleDeps, request: FastifyRequest, record: RunRecord, notice?: RunView['notice']): RunView {
  const caller = callerOf(request);
  return { record, report: buildReport(record), role: caller.person.role, csrf: deps.csrf.token(caller.principal), ...(notice ? { notice } : {}) };
}

function showRun(deps: ConsoleDeps, request: RunRequest, reply: FastifyReply, record: RunRecord, notice?: RunView['notice']) {
  const view = viewOf(deps, request, record, notice);
  // Without JavaScript the page still follows a live run: the browser reloads it (CSP does not govern meta refresh).
  const head = view.report.run.state === 'running' ? '<noscript><meta http-equiv="refresh" content="3"></noscript>' : undefined;
  return render(deps, request, reply, `Run ${record.workflowId}`, renderRun(view), { ...(head ? { head } : {}) });
}

async function waitRecorded(deps: ConsoleDeps, cast: Awaited<ReturnType<typeof castVote>>) {
  for (const deadline = Date.now() + RECORD_WAIT_MS; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const record = await recordedVote(deps.client, cast.run, cast.step, cast.vote).catch(() => undefined);
    if (record) return record;
  }
  return undefined;
}

/** One notice per person, shown on the page a POST redirects to (post/redirect/get: a reload casts nothing again). */
type Flash = Map<string, NonNullable<RunView['notice']>>;

async function vote(
  deps: ConsoleDeps,
  flash: Flash,
  request: FastifyRequest<{ Params: { id: string; step: string }; Body: Record<string, string | undefined> }>,
  reply: FastifyReply,
) {
  if (!requireApprover(deps, request, reply)) return reply;
  const { id, step } = request.params;
  const decision = request.body?.decision;
  const reason = (request.body?.reason ?? '').trim();
  let notice: RunView['notice'];
  if (decision !== 'approve' && decision !== 'reject') notice = { kind: 'error', text: 'Choose approve or reject.' };
  else if (decision === 'reject' && !reason) notice = { kind: 'error', text: 'Say why you reject it: the reason goes on record.' };
  else if (reason.length > 1000) notice = { kind: 'error', text: 'The reason may be at most 1000 characters.' };
  else {
    const { person } = callerOf(request);
    try {
      const cast = await castVote(
        deps.client,
        { run: id, step, decision, reason },
        { name: person.name, groups: person.groups, channel: person.channel },
        deps.approvalKey(),
      );
      deps.log('info', 'vote cast', { run: cast.run, step: cast.step, voter: person.name, channel: person.channel, decision, via: 'console' });
      const recorded = await waitRecorded(deps, cast);
      notice = !recorded
        ? { kind: 'ok', text: `Your ${decision} of ${step} was sent; the worker has not recorded it yet.` }
        : recorded.counted
          ? { kind: 'ok', text: `Your ${decision} of ${step} was counted.` }
          : { kind: 'error', text: `Your vote on ${step} was refused: ${recorded.refused ?? 'no reason given'}` };
    } catch (error) {
      if (!(error instanceof VoteError)) throw error;
      notice = { kind: 'error', text: error.message };
    }
  }
  flash.set(callerOf(request).principal, notice);
  return reply.redirect(`/runs/${encodeURIComponent(id)}`, 303);
}

function failbackMode(value: string | undefined): Mode {
  return value === 'run' ? 'run' : 'drill';
}

export function registerRunRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const flash: Flash = new Map();
  app.get<{ Querystring: Record<string, string | undefined> }>('/runs', async (request, reply) => {
    const filters = filtersOf(request.query);
    const runs = await listRuns(deps.client, filters);
    const runbooks = [...new Set([...(filters.runbook ? [filters.runbook] : []), ...runs.map((r) => r.runbook)])].sort();
    return render(deps, request, reply, 'Runs', renderRuns(runs, filters, runbooks));
  });

  app.get('/runs/:id', async (request: RunRequest, reply) => {
    const record = await recordOr404(deps, request, reply);
    if (!record) return reply;
    const principal = callerOf(request).principal;
    const notice = flash.get(principal);
    flash.delete(principal);
    return showRun(deps, request, reply, record, notice);
  });

  app.get('/runs/:id/live', async (request: RunRequest, reply) => {
    const record = await loadRunRecord(deps.client, request.params.id).catch(() => undefined);
    if (!record) return reply.code(404).type('text/plain').send('no such run');
    return send(reply, renderRunLive(viewOf(deps, request, record)));
  });

  app.post('/runs/:id/approvals/:step', vote.bind(null, deps, flash));

  app.post('/runs/:id/cancel', async (request: RunRequest, reply) => {
    if (!requireApprover(deps, request, reply)) return reply;
    await deps.client.workflow.getHandle(request.params.id).cancel();
    deps.log('info', 'run cancelled', { run: request.params.id, by: callerOf(request).person.name, via: 'console' });
    return reply.redirect(`/runs/${encodeURIComponent(request.params.id)}`, 303);
  });

  app.get('/runs/:id/report', async (request: RunRequest, reply) => {
    const record = await recordOr404(deps, request, reply);
    if (!record) return reply;
    const html = renderHtml(buildReport(record));
    const style = /<style>([^<]*)<\/style>/.exec(html)?.[1];
    const hash = style === undefined ? undefined : createHash('sha256').update(style).digest('base64');
    return reply.header('content-security-policy', reportCsp(hash)).type('text/html; charset=utf-8').send(html);
  });

  app.get('/runs/:id/failback', async (request: RunRequest, reply) => {
    const record = await recordOr404(deps, request, reply);
    if (!record) return reply;
    const mode = failbackMode(request.query.mode);
    try {
      const failback = buildFailback(record, { mode });
      const caller = callerOf(request);
      return render(
        deps,
        request,
        reply,
        `Failback of ${record.workflowId}`,
        renderFailback(record.workflowId, failback, mode, caller.person.role, deps.csrf.token(caller.principal)),
      );
    } catch (error) {
      if (error instanceof FailbackError) return problem(deps, request, reply, 409, 'No failback', error.message);
      throw error;
    }
  });

  app.post('/runs/:id/failback', async (request: RunRequest, reply) => {
    if (!requireApprover(deps, request, reply)) return reply;
    const record = await recordOr404(deps, request, reply);
    if (!record) return reply;
    const mode = failbackMode(request.body?.mode);
    try {
      const { plan } = buildFailback(record, { mode });
      if (!plan.steps.length) return problem(deps, request, reply, 409, 'No failback', `${record.workflowId} left nothing to fail back.`);
      const person = callerOf(request).person;
      const handle = await startRun(deps.client, plan, {}, { taskQueue: deps.taskQueue, startedBy: person.name });
      deps.log('info', 'failback started', { run: record.workflowId, failback: handle.workflowId, mode, by: person.name, via: 'console' });
      return reply.redirect(`/runs/${encodeURIComponent(handle.workflowId)}`, 303);
    } catch (error) {
      if (error instanceof FailbackError) return problem(deps, request, reply, 409, 'No failback', error.message);
      throw error;
    }
  });
}
