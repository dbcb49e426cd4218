// AWS ELBv2 (ALB) weighted forwards: read and set the target-group weights of a listener's or a rule's forward action.
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ActionError } from '../runtime/errors.ts';

export interface Elbv2Target {
  listener_arn?: string;
  rule_arn?: string;
  endpoint?: string;
  region: string;
  access_key?: string;
  secret_key?: string;
}

export type Weights = Record<string, number>;

/** What the forward lives in: the actions around it are written back as they were read. */
export interface Forward {
  actions: Action[];
  index: number;
  weights: Weights;
  /** The listener's protocol and port, or the rule's priority, for reports. */
  detail: string;
}

export function elbv2Client(target: Elbv2Target): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.access_key && target.secret_key ? { credentials: { accessKeyId: target.access_key, secretAccessKey: target.secret_key } } : {}),
    // One attempt per activity attempt: the step's retry policy decides how long to keep trying.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

export function where(target: Elbv2Target): string {
  return target.listener_arn ? `listener ${target.listener_arn}` : `rule ${target.rule_arn}`;
}

const NOT_FOUND = new Set([
  'ListenerNotFoundException',
  'ListenerNotFound',
  'RuleNotFoundException',
  'RuleNotFound',
  'TargetGroupNotFoundException',
  'TargetGroupNotFound',
  'LoadBalancerNotFoundException',
  'LoadBalancerNotFound',
]);
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/**
 * AWS errors by kind: a missing listener, rule or group, bad credentials or a request AWS
 * rejects will fail the same way next time; throttling, 5xx and no answer may not.
 */
export function awsError(what: string, error: unknown): ActionError {
  const e = error as { name?: string; code?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const message = `${what}: ${name}${e.code && e.code !== name ? ` ${e.code}` : ''}: ${e.message ?? String(error)}`;
  if (NOT_FOUND.has(name)) return new ActionError('not_found', message, { retryable: false, cause: error });
  const status = e.$metadata?.httpStatusCode;
  const client = e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500);
  const retryable = THROTTLED.has(name) || status === 429 || !client;
  return new ActionError(client && !retryable ? 'rejected' : 'unreachable', message, { retryable, cause: error });
}

async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw awsError(what, error);
  }
}

/** Target group → weight; AWS reports a plain single-group forward as that group alone, weight 1. */
function weightsOf(action: Action): Weights {
  const groups = action.ForwardConfig?.TargetGroups ?? [];
  if (groups.length) return Object.fromEntries(groups.map((g) => [g.TargetGroupArn!, g.Weight ?? 1]));
  return action.TargetGroupArn ? { [action.TargetGroupArn]: 1 } : {};
}

function forwardIn(actions: Action[], what: string, detail: string): Forward {
  const index = actions.findIndex((a) => a.Type === 'forward');
  if (index < 0) {
    const types = actions.map((a) => a.Type).join(', ') || 'none';
    throw new ActionError('unsupported', `${what} has no forward action to weight (its actions: ${types})`, { retryable: false });
  }
  return { actions, index, weights: weightsOf(actions[index]!), detail };
}

export async function readForward(client: ElasticLoadBalancingV2Client, target: Elbv2Target, signal?: AbortSignal): Promise<Forward> {
  const what = where(target);
  if (target.listener_arn) {
    const out = await call(what, () => client.send(new DescribeListenersCommand({ ListenerArns: [target.listener_arn!] }), { abortSignal: signal }));
    const listener = out.Listeners?.[0];
    if (!listener) throw new ActionError('not_found', `${what} does not exist`, { retryable: false });
    return forwardIn(listener.DefaultActions ?? [], what, `${listener.Protocol ?? '?'}:${listener.Port ?? '?'} on ${listener.LoadBalancerArn ?? '?'}`);
  }
  const out = await call(what, () => client.send(new DescribeRulesCommand({ RuleArns: [target.rule_arn!] }), { abortSignal: signal }));
  const rule = out.Rules?.[0];
  if (!rule) throw new ActionError('not_found', `${what} does not exist`, { retryable: false });
  return forwardIn(rule.Actions ?? [], what, `priority ${rule.Priority ?? '?'}`);
}

/**
 * Actions written back beside the forward: Describe never returns an OIDC client secret,
 * so such an action keeps the one AWS has instead of being sent without it.
 */
function unchanged(action: Action): Action {
  if (action.Type === 'authenticate-oidc' && action.AuthenticateOidcConfig) {
    return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } };
  }
  return action;
}

/** The forward becomes exactly `weights` (a ForwardConfig, never the single-group shorthand); stickiness is kept. */
export async function writeForward(
  client: ElasticLoadBalancingV2Client,
  target: Elbv2Target,
  forward: Forward,
  weights: Weights,
  signal?: AbortSignal,
): Promise<void> {
  const actions = forward.actions.map((action, i) => {
    if (i !== forward.index) return unchanged(action);
    const { TargetGroupArn: _single, ...rest } = action;
    const groups = Object.entries(weights).map(([arn, weight]) => ({ TargetGroupArn: arn, Weight: weight }));
    return { ...rest, ForwardConfig: { ...action.ForwardConfig, TargetGroups: groups } };
  });
  const what = where(target);
  if (target.listener_arn) {
    await call(what, () => client.send(new ModifyListenerCommand({ ListenerArn: target.listener_arn!, DefaultActions: actions }), { abortSignal: signal }));
  } else {
    await call(what, () => client.send(new ModifyRuleCommand({ RuleArn: target.rule_arn!, Actions: actions }), { abortSignal: signal }));
  }
}

/**
 * The groups among `arns` that do not exist. Asked one by one when a batch fails, because
 * AWS answers a batch with one missing ARN with an error that does not say which.
 */
export async function missingTargetGroups(client: ElasticLoadBalancingV2Client, arns: string[], signal?: AbortSignal): Promise<string[]> {
  const describe = (list: string[]) => client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: list }), { abortSignal: signal });
  try {
    const found = new Set((await describe(arns)).TargetGroups?.map((g) => g.TargetGroupArn));
    return arns.filter((arn) => !found.has(arn));
  } catch (error) {
    if (!NOT_FOUND.has((error as Error).name)) throw awsError('target groups', error);
  }
  const missing: string[] = [];
  for (const arn of arns) {
    try {
      await describe([arn]);
    } catch (error) {
      if (!NOT_FOUND.has((error as Error).name)) throw awsError(`target group ${arn}`, error);
      missing.push(arn);
    }
  }
  return missing;
}
