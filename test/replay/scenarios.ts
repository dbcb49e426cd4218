// The replay scenarios: runbooks (needs/if, compensation, approvals, child runbook, cancel, drill, sites, alert trigger) recorded and replayed.
/**
 * Runs whose histories are recorded (scripts/record-histories.ts) and replayed against the
 * current interpreter (replay.test.ts). They use only loopback URLs that refuse
 * connections, so recording needs no other server. Add a scenario when the interpreter
 * gains a behaviour; never edit a recorded history to make a replay pass.
 */
import type { Trigger } from '../../contract/trigger.ts';

const head = (name: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:\n`;
const refused = 'http://127.0.0.1:9/refused';

export interface Scenario {
  name: string;
  runbook: string;
  files?: Record<string, string>;
  params?: Record<string, string | number | boolean>;
  mode?: 'run' | 'drill';
  /** Signals sent once the named approval step is running. */
  approve?: { step: string; decision: 'approve' | 'reject' };
  /** Under approval-policy: a forged raw signal, then votes the approval service signs for these people (name → groups). */
  votes?: { step: string; forged: string; voters: Record<string, string[]> };
  cancelWhenRunning?: string;
  /** Sites the recorder starts a worker for (task queue rebound-<site>) while recording. */
  sites?: string[];
  /** How the run started, as `rebound serve` or a Schedule passes it (`trigger.*`). */
  trigger?: Trigger;
  /** Needs an HAProxy while recording (backend web: servers primary, standby); `HAPROXY_SOCKET` in the runbook becomes its Runtime API. */
  haproxy?: boolean;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'parallel-needs-if',
    runbook: `${head('parallel')}  parameters: {go: {type: boolean, default: true}}
  steps:
    - {id: a, uses: log, with: {message: a}}
    - {id: left, uses: sleep, needs: [a], with: {duration: 1s}}
    - {id: right, uses: log, needs: [a], if: "\${{ params.go }}", with: {message: "\${{ steps.a.outputs.message }}"}}
    - {id: skipped, uses: log, needs: [a], if: "!params.go", with: {message: x}}
    - {id: join, uses: log, needs: [left, right, skipped], with: {message: join}}
    - {id: below, uses: log, with: {message: below}}
`,
  },
  {
    name: 'failure-compensation',
    runbook: `${head('failure')}  steps:
    - {id: long, uses: sleep, needs: [], with: {duration: 1m}}
    - {id: broken, uses: http.check, needs: [], retry: {max_attempts: 2, initial_interval: 100ms}, with: {url: "${refused}", timeout: 1s}}
    - {id: probe, uses: http.check, continue_on_error: true, retry: {max_attempts: 1}, with: {url: "${refused}"}}
  on_failure:
    - {id: undo, uses: log, with: {message: "undo \${{ steps.broken.outcome }}"}}
  finally:
    - {id: cleanup, uses: log, with: {message: cleanup}}
`,
  },
  {
    name: 'approval-approved',
    runbook: `${head('approval')}  steps:
    - {id: gate, uses: approval, with: {timeout: 5m}}
    - {id: act, uses: log, needs: [gate], with: {message: "\${{ steps.gate.outputs.by }}"}}
`,
    approve: { step: 'gate', decision: 'approve' },
  },
  {
    name: 'approval-policy',
    runbook: `${head('approval-policy')}  steps:
    - {id: gate, uses: approval, with: {timeout: 5m, approvers: ["group:sre"], min_approvals: 2}}
    - {id: act, uses: log, needs: [gate], with: {message: "\${{ steps.gate.outputs.by }}"}}
`,
    votes: { step: 'gate', forged: 'security-officer@corp', voters: { dave: ['dev'], alice: ['sre'], bob: ['sre'] } },
  },
  {
    name: 'approval-timeout-child',
    runbook: `${head('child-parent')}  steps:
    - {id: gate, uses: approval, with: {timeout: 1s, on_timeout: approve}}
    - {id: sub, uses: runbook, with: {path: child.yaml, params: {who: parent}}}
`,
    files: {
      'child.yaml': `${head('child')}  parameters: {who: {type: string, required: true}}\n  steps:\n    - {id: hello, uses: log, with: {message: "hi \${{ params.who }}"}}\n`,
    },
  },
  {
    name: 'cancelled',
    runbook: `${head('cancel')}  steps:
    - {id: wait, uses: sleep, with: {duration: 1h}}
  finally:
    - {id: cleanup, uses: log, with: {message: cleanup}}
`,
    cancelWhenRunning: 'wait',
  },
  {
    name: 'drill-simulated',
    mode: 'drill',
    runbook: `${head('drill')}  objectives: {rto: 1m}
  steps:
    - {id: switch, uses: http.request, with: {url: "${refused}", method: PUT}}
    - {id: report, uses: log, with: {message: "\${{ steps.switch.outputs.body_excerpt }}"}}
`,
  },
  {
    // Recorded after built-in inputs were validated in the workflow (patch validate-builtin-inputs).
    name: 'builtin-inputs-validated',
    params: { wait: '1s' },
    runbook: `${head('validated')}  parameters: {wait: {type: duration, default: 1s}}
  steps:
    - {id: gate, uses: approval, with: {timeout: "\${{ params.wait }}", on_timeout: approve}}
    - {id: nap, uses: sleep, with: {duration: "\${{ params.wait }}"}}
`,
  },
  {
    // Per-site steps: one site has a worker (the step records which), the other none, so its
    // step fails after the schedule-to-start timeout as "no worker for site nowhere".
    name: 'per-site',
    sites: ['here'],
    runbook: `${head('sites')}  sites: [here, nowhere]
  site: here
  steps:
    - {id: local, uses: log, with: {message: here}}
    - {id: remote, uses: log, site: nowhere, site_timeout: 1s, continue_on_error: true, with: {message: nowhere}}
    - {id: after, uses: log, with: {message: "\${{ steps.remote.outcome }}"}}
`,
  },
  {
    // Recorded when every patch is decided in the run's first task, before its first local
    // activity (patch early-patches): votes checked, a retried step classified by the catalog.
    name: 'early-patches',
    runbook: `${head('early')}  steps:
    - {id: gate, uses: approval, with: {timeout: 5m, approvers: ["group:sre"]}}
    - {id: probe, uses: http.check, needs: [gate], continue_on_error: true, retry: {max_attempts: 2, initial_interval: 100ms, non_retryable: [unreachable]}, with: {url: "${refused}", timeout: 1s}}
`,
    votes: { step: 'gate', forged: 'mallory@corp', voters: { alice: ['sre'] } },
  },
  {
    // Recorded when runs learned how they started: an alert's labels and annotations in trigger.*.
    name: 'alert-trigger',
    trigger: {
      kind: 'alert',
      alert: {
        status: 'firing',
        labels: { alertname: 'Down', service: 'orders' },
        annotations: { summary: 'down' },
        starts_at: '2026-01-01T03:00:00Z',
        fingerprint: 'f1',
        source: 'alertmanager',
      },
    },
    runbook: `${head('alerted')}  steps:
    - {id: who, uses: log, if: "\${{ trigger.kind == 'alert' }}", with: {message: "\${{ trigger.alert.labels.service }} \${{ trigger.alert.annotations.summary }}"}}
`,
  },
  {
    // spec.notify (patch run-notifications): notify activities beside the steps, one that fails after its retries.
    name: 'run-notifications',
    runbook: `${head('notified')}  channels:
    down: {webhook: {url: "${refused}"}}
  notify:
    started: [down]
    approval_waiting: {channels: [down], message: "\${{ event.text }}"}
    step_failed: [down]
    succeeded: [down]
  steps:
    - {id: gate, uses: approval, with: {timeout: 1s, on_timeout: approve}}
    - {id: probe, uses: http.check, continue_on_error: true, retry: {max_attempts: 1}, with: {url: "${refused}"}}
    - {id: done, uses: log, with: {message: done}}
`,
  },
  {
    // A drill's simulated state carried per resource (patch drill-state): the second switch's guard holds
    // only against the 50/50 the first would have left, not HAProxy's real 1/1.
    name: 'drill-state',
    mode: 'drill',
    haproxy: true,
    runbook: `${head('drill-state')}  steps:
    - {id: half, uses: routing.switch, with: {provider: haproxy, haproxy: {socket: "HAPROXY_SOCKET", backend: web, servers: {primary: {weight: 50}, standby: {weight: 50}}}}}
    - id: all
      uses: routing.switch
      with: {provider: haproxy, haproxy: {socket: "HAPROXY_SOCKET", backend: web, servers: {primary: {weight: 0}, standby: {weight: 100}}}, expect_current: {primary: {weight: 50}}}
`,
  },
  {
    // for_each in order (patch for-each): an iteration per item, item and index in with:, a later step reading steps.x[i].
    name: 'for-each-in-order',
    runbook: `${head('loop')}  steps:
    - {id: shift, uses: log, name: "shift \${{ item }}", for_each: [eu, us], with: {message: "\${{ index }} \${{ item }}"}}
    - {id: after, uses: log, with: {message: "\${{ steps.shift[1].outputs.message }}"}}
`,
  },
  {
    // for_each in parallel (patch for-each): a group of steps per item, two at once, one iteration failing (allowed), siblings read by bare id.
    name: 'for-each-parallel',
    runbook: `${head('loop-parallel')}  parameters: {regions: {type: string, default: "eu,us,ap"}}
  steps:
    - id: region
      for_each: \${{ params.regions.split(',') }}
      parallel: 2
      continue_on_error: true
      steps:
        - {id: wait, uses: sleep, with: {duration: 1s}}
        - {id: probe, uses: http.check, if: "item == 'us'", retry: {max_attempts: 1}, with: {url: "${refused}"}}
        - {id: done, uses: log, with: {message: "\${{ item }} \${{ steps.wait.outputs.slept_ms }}"}}
    - {id: after, uses: log, with: {message: "outcomes \${{ steps.region.map(r, r.outcome) }}"}}
`,
  },
];
