// Approval votes as the approval service signs them, the statement naming who started a run, and each vote's record: shared by serve (signer), worker (verifier) and clients.

/** The local activity that checks one vote against the approval service's key and the step's policy. */
export const VERIFY_VOTE_ACTIVITY = 'rebound.verify_vote';

/** How an approver proved who they are to the approval service. */
export type VoteChannel = 'token' | 'mtls';

/** One person's decision on one approval step of one run, as the approval service saw it. */
export interface Vote {
  /** The workflow id of the run that holds the step, and its Temporal run id (a vote cannot move to a later run of the same id). */
  workflow_id: string;
  execution: string;
  step: string;
  decision: 'approve' | 'reject';
  /** The approver's name in the deployment's approvers file, and the groups it puts them in. */
  voter: string;
  groups: string[];
  channel: VoteChannel;
  at: string;
  reason: string;
}

/** A vote and the approval service's Ed25519 signature over voteStatement(vote). */
export interface SignedVote {
  vote: Vote;
  key: string;
  sig: string;
}

export function voteStatement(vote: Vote, canonical: (value: unknown) => string): string {
  return `rebound.approval-vote/v1\n${canonical(vote)}\n`;
}

/**
 * Who started a run, signed by the starter's plan key together with the workflow id it started
 * (children carry their parent's: their ids extend it). A schedule's runs get ids Temporal
 * extends with the time, so its statement names the id prefix.
 */
export interface StarterStatement {
  identity: string;
  workflow_id: string;
  /** The schedule's id prefix: any workflow id starting with `workflow_id` + "-" is covered. */
  prefix?: boolean;
  plan_hash: string;
  key: string;
  sig: string;
}

export function starterStatement(s: Pick<StarterStatement, 'identity' | 'workflow_id' | 'prefix' | 'plan_hash'>): string {
  return `rebound.run-starter/v1\nworkflow ${s.workflow_id}${s.prefix ? '-*' : ''}\nplan ${s.plan_hash}\nby ${s.identity}\n`;
}

/** Whether a starter statement covers this workflow (the run itself, a scheduled run, or a child of either). */
export function starterCovers(s: Pick<StarterStatement, 'workflow_id' | 'prefix'>, workflowId: string): boolean {
  const root = workflowId.split('.')[0]!;
  if (s.prefix) return root.startsWith(`${s.workflow_id}-`);
  return workflowId === s.workflow_id || workflowId.startsWith(`${s.workflow_id}.`);
}

/** What a step's `with:` says about who may decide. */
export interface ApprovalPolicy {
  /** Names and `group:NAME` entries; empty: any person the approval service knows. */
  approvers: string[];
  min_approvals: number;
  allow_self_approval: boolean;
}

/** One ballot as the run recorded it: counted, or refused with why. */
export interface VoteRecord {
  /** The verified approver, or for a refused ballot whatever it claimed (`claimed`). */
  by: string;
  decision: 'approve' | 'reject';
  channel: VoteChannel | 'signal';
  at: string;
  reason: string;
  counted: boolean;
  refused?: string;
}

/** What the verify-vote activity is given: the ballot as it arrived, and what it is checked against. */
export interface VoteCheck {
  ballot: { decision: 'approve' | 'reject'; by?: string; reason?: string; signed?: SignedVote };
  policy: ApprovalPolicy;
  workflow_id: string;
  execution: string;
  step: string;
  started_by?: StarterStatement;
  /** When the signal arrived (workflow time): what a refused, unsigned ballot is recorded at. */
  received_at: string;
}
