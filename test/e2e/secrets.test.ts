// End-to-end test of secrets via a worker process and the CLI: a header secret reaches the endpoint, never the history, worker log or CLI output.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { rebound } from '../helpers/cli.ts';
import { historyText } from '../helpers/history.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, uniqueSite } from '../helpers/runs.ts';

let worker: WorkerProcess | undefined;
afterAll(() => worker?.kill());

describe('secrets', () => {
  it('a secret used in a header reaches the endpoint but not the history, the worker log or the CLI output', async () => {
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const http = await startHttpServer({
      '/auth': (req, res) => void res.writeHead(req.headers.authorization === `Bearer ${secret}` ? 200 : 401).end(`you sent ${req.headers.authorization}`),
      // Echoes the credential back in an error body, as careless servers do.
      '/leaky': (req, res) => void res.writeHead(403).end(`denied for ${req.headers.authorization}`),
    });
    const site = uniqueSite('secrets');
    const address = inject('temporalAddress');
    // Only the worker knows the value: the CLI and the workflow see a reference.
    worker = await startWorkerProcess({ address, site, bundle: inject('workflowBundle'), env: { E2E_API_TOKEN: secret } });

    const dir = mkdtempSync(join(tmpdir(), 'rebound-secrets-'));
    const file = join(dir, 'secret.yaml');
    writeFileSync(
      file,
      `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: secrets}\nspec:
  secrets: {token: {env: E2E_API_TOKEN}}
  steps:
    - id: authorized
      uses: http.check
      with: {url: "${http.url('/auth')}", headers: {Authorization: "Bearer \${{ secrets.token }}"}}
    - id: leaky
      uses: http.check
      retry: {max_attempts: 1}
      with: {url: "${http.url('/leaky')}", expect_status: 200, expect_body: nothing, headers: {Authorization: "Bearer \${{ secrets.token }}"}}
`,
    );
    const id = `secrets-${randomBytes(4).toString('hex')}`;
    const run = await rebound(['run', file, '--site', site, '--id', id], { TEMPORAL_ADDRESS: address });
    const json = await rebound(['status', id, '--json'], { TEMPORAL_ADDRESS: address });

    // The secret was really resolved and sent (positive control)…
    expect(http.requests.filter((r) => r.path === '/auth').map((r) => r.headers.authorization)).toEqual([`Bearer ${secret}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('authorized');
    expect(json.stdout).toContain('"state": "failed"');
    // …and the echoed credential in the failure was masked.
    expect(run.stdout + run.stderr).toContain('answered 403');

    const history = await (await connect(address)).workflow.getHandle(id).fetchHistory();
    const everywhere = { history: historyText(history), worker: worker.output(), cli: run.stdout + run.stderr + json.stdout + json.stderr };
    for (const [where, text] of Object.entries(everywhere)) {
      expect(text.length, where).toBeGreaterThan(100);
      expect(text.includes(secret), `the secret leaked into the ${where}`).toBe(false);
    }
    // Positive controls: the decoded history does hold the plan and the masked echo.
    expect(everywhere.history).toContain('"env":"E2E_API_TOKEN"');
    expect(everywhere.history).toContain('you sent Bearer ***');
    await http.close();
  });
});
