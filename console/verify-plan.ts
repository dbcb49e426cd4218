// The one-step plan the restore-points page starts to verify a point: backup.verify of that point, as `rebound restore-points verify` compiles it; secrets stay on the worker, named by its environment variables.
import { stringify } from 'yaml';
import { compile } from '../compiler/index.ts';
import type { Plan } from '../contract/plan.ts';

/** An environment variable name: what the form may name for the scratch server's URL (never the URL itself). */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

export interface VerifyRequest {
  point: string;
  /** The worker's variable holding the scratch server's URL (database kinds need one). */
  scratchEnv?: string;
  /** The store the console reads when it was given --storage; absent: the worker's default store and key. */
  storageUrl?: string;
}

/** The plan, or the compiler's messages when the request cannot make one. */
export function verifyPlan(request: VerifyRequest): { plan?: Plan; error?: string } {
  const runbook = {
    apiVersion: 'rebound/v1',
    kind: 'Runbook',
    metadata: { name: 'verify-restore-point', description: `verify restore point ${request.point} (started from the console)` },
    spec: {
      ...(request.scratchEnv ? { secrets: { scratch: { env: request.scratchEnv } } } : {}),
      steps: [
        {
          id: 'verify',
          uses: 'backup.verify',
          with: {
            restore_point: request.point,
            ...(request.scratchEnv ? { scratch: '${{ secrets.scratch }}' } : {}),
            ...(request.storageUrl ? { storage: { url: request.storageUrl } } : {}),
          },
        },
      ],
    },
  };
  const { plan, errors } = compile(stringify(runbook), { file: '(console verify)' });
  return plan ? { plan } : { error: errors.map((e) => e.message).join('; ') };
}
