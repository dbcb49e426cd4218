// What k8s.rollout reads and writes on a workload: its pod-template facts, the checks before a change, the patch, and the record that lets a retry recognise its own change.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { k8sRollout, TemplateFactsOutput } from '../../contract/actions/kubernetes-rollout.ts';
import { ActionError } from '../runtime/errors.ts';
import type { Workload } from './workloads.ts';

export type Input = z.output<typeof k8sRollout.input>;
export type Facts = TemplateFactsOutput;

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * Set on the workload's own metadata (not its template, so it starts no rollout) in the same
 * patch as the change: which run and step made the last change, and the template it found.
 * A retry of that step (after a crash, a lost answer, a timeout) reads it and knows the change
 * is already made — it does not restart a second time — and what the template was before.
 * The patch is one atomic write, so the record exists exactly when the change does; a
 * heartbeat could be lost with the worker that sent it.
 */
export const RECORD = 'rebound.dev/rollout';

export interface RolloutRecord {
  run: string;
  step: string;
  previous: Facts;
}

export const workloadRef = (input: Input): string => `${input.kind.toLowerCase()}/${input.name}`;

export function factsOf(w: Workload): Facts {
  const { metadata, spec, status } = w.object;
  const template = spec?.template;
  const images = Object.fromEntries((template?.spec?.containers ?? []).map((c) => [c.name, c.image ?? '']));
  const restartedAt = template?.metadata?.annotations?.[RESTARTED_AT];
  const revision = w.kind === 'deployment' ? metadata?.annotations?.['deployment.kubernetes.io/revision'] : (status as V1StatefulSet['status'])?.updateRevision;
  return { images, ...(restartedAt ? { restarted_at: restartedAt } : {}), generation: metadata?.generation ?? 0, ...(revision ? { revision } : {}) };
}

/** This step's own earlier change, when the workload's record says an attempt of it made one. */
export function ownRecord(w: Workload, runId: string, step: string): RolloutRecord | undefined {
  const text = w.object.metadata?.annotations?.[RECORD];
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as Partial<RolloutRecord>;
    return record.run === runId && record.step === step && record.previous ? (record as RolloutRecord) : undefined;
  } catch {
    return undefined; // someone else's value: not ours
  }
}

/** Refuses workloads whose controller would not roll the change out, and containers the template does not have. */
export function checkWorkload(input: Input, w: Workload, facts: Facts): void {
  if (w.kind === 'deployment' && (w.object as V1Deployment).spec?.paused)
    throw new ActionError('conflict', `${w.ref} in ${input.namespace} is paused, so no rollout would start; resume it (kubectl rollout resume) first`, {
      retryable: false,
    });
  if (w.kind === 'statefulset' && (w.object as V1StatefulSet).spec?.updateStrategy?.type === 'OnDelete')
    throw new ActionError(
      'unsupported',
      `${w.ref} in ${input.namespace} uses updateStrategy OnDelete: its controller replaces no pods, so nothing would roll out; switch it to RollingUpdate or replace its pods by hand`,
      { retryable: false },
    );
  const partition = w.kind === 'statefulset' ? (w.object as V1StatefulSet).spec?.updateStrategy?.rollingUpdate?.partition : undefined;
  if (input.wait && partition)
    throw new ActionError(
      'unsupported',
      `${w.ref} in ${input.namespace} has a partitioned rolling update (partition ${partition}): pods below it are never replaced, so the rollout cannot be waited for; set wait: false`,
      { retryable: false },
    );
  const named = [...(input.image ? [input.image.container] : []), ...Object.keys(input.expect_current ?? {})];
  const missing = [...new Set(named)].filter((c) => !(c in facts.images));
  if (missing.length)
    throw new ActionError(
      'not_found',
      `${w.ref} in ${input.namespace} has no container ${missing.map((c) => `"${c}"`).join(', ')}; its pod template has: ${Object.keys(facts.images).join(', ') || 'none'}`,
      { retryable: false },
    );
}

/** The expect_current guard: each named container runs exactly that image now. */
export function guard(input: Input, w: Workload, facts: Facts): string[] {
  if (!input.expect_current) return [];
  const wrong = Object.entries(input.expect_current).filter(([c, image]) => facts.images[c] !== image);
  if (wrong.length)
    throw new ActionError(
      'conflict',
      `expect_current does not hold for ${w.ref}: ${wrong.map(([c, image]) => `container ${c} runs ${facts.images[c]}, expected ${image}`).join('; ')}; it changed since the plan was made, so nothing was changed`,
      { retryable: false },
    );
  return [
    `expect_current matches: ${Object.entries(input.expect_current)
      .map(([c, image]) => `${c}=${image}`)
      .join(', ')}`,
  ];
}

/** RFC 3339 in seconds, as kubectl writes it; with milliseconds if that equals the present value (two restarts in one second must still differ). */
export function restartStamp(now: Date, present: string | undefined): string {
  const seconds = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return seconds === present ? now.toISOString() : seconds;
}

/** The facts a change would leave in the template (generation and revision are the server's to say). */
export function target(input: Input, facts: Facts, stamp: string | undefined): Facts {
  const images = input.image ? { ...facts.images, [input.image.container]: input.image.image } : facts.images;
  return { ...facts, images, ...(stamp ? { restarted_at: stamp } : {}) };
}

/**
 * A strategic merge patch (containers merge by name): the change, the record, and the
 * resourceVersion the checks were made against — a write since then fails with 409 (retried,
 * and the retry checks again) instead of overwriting it.
 */
export function patchBody(input: Input, w: Workload, record: RolloutRecord, stamp: string | undefined): object {
  const template = stamp
    ? { metadata: { annotations: { [RESTARTED_AT]: stamp } } }
    : { spec: { containers: [{ name: input.image!.container, image: input.image!.image }] } };
  return {
    metadata: { resourceVersion: w.object.metadata?.resourceVersion, annotations: { [RECORD]: JSON.stringify(record) } },
    spec: { template },
  };
}

/** Why a StatefulSet's rolling update is not complete yet, beyond the replica counts: the revision check `kubectl rollout status` makes. */
export function revisionPending(w: Workload): string | undefined {
  const status = (w.object as V1StatefulSet).status;
  if (w.kind !== 'statefulset' || !status?.updateRevision || status.currentRevision === status.updateRevision) return undefined;
  return `pods still at revision ${status.currentRevision ?? 'none'}, rolling to ${status.updateRevision}`;
}
