// The worker's own guards, whoever scheduled the activity: signed secret tables only, references only where the plan put them, file secrets confined, every form of a secret masked.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpCheck } from '../../contract/actions/http.ts';
import { secretPaths } from '../../contract/expression.ts';
import type { ActionInput, ActionResult } from '../../contract/run.ts';
import { signedInput } from '../../test/helpers/activity.ts';
import { defineImpl, toActivity } from './wrap.ts';
import { mask, resolveSecrets } from './secrets.ts';

// An action that reports what it was handed: enough to see what the worker resolved.
const echo = toActivity(defineImpl({ spec: httpCheck, run: async (input) => ({ status: 200, body_excerpt: JSON.stringify(input.headers) }) as never }));
const input = (extra: Partial<ActionInput> = {}): ActionInput => ({
  runbook: 'rb',
  run_id: 'run-1',
  step: 'probe',
  backend: 'http',
  simulate: false,
  max_attempts: 3,
  with: { url: 'http://127.0.0.1:9/x', headers: { a: { $secret: 'token' } } },
  secrets: { token: { env: 'REBOUND_TEST_TRUST_TOKEN' } },
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

afterEach(() => {
  delete process.env.REBOUND_TEST_TRUST_TOKEN;
  delete process.env.REBOUND_SECRETS_DIR;
});

describe('an activity checks its input, whoever scheduled it', () => {
  it('runs a signed input (positive control)', async () => {
    process.env.REBOUND_TEST_TRUST_TOKEN = 'tok-123456';
    const result: ActionResult = await new MockActivityEnvironment().run(echo, signedInput(input()));
    expect(result.outputs.body_excerpt).toBe('{"a":"***"}');
  });

  it('refuses an unsigned input before resolving any secret, not retryable', async () => {
    const failure = await refusal(new MockActivityEnvironment().run(echo, input()));
    expect(failure.type).toBe('untrusted');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^http: step "probe": plan .* is not signed/);
  });

  it('refuses a signed input whose secret table was swapped (a rogue workflow reusing a signature)', async () => {
    const signed = signedInput(input());
    const failure = await refusal(new MockActivityEnvironment().run(echo, { ...signed, secrets: { token: { file: '/etc/shadow' } } }));
    expect(failure.message).toContain('the signature does not match its content');
  });
});

describe('secrets go only to their hosts', () => {
  it('a rogue workflow reusing a signed table cannot send its secret to another host', async () => {
    process.env.REBOUND_TEST_TRUST_TOKEN = 'tok-hosts';
    const listed = { token: { env: 'REBOUND_TEST_TRUST_TOKEN', hosts: ['api.example.org'] } };
    const failure = await refusal(new MockActivityEnvironment().run(echo, signedInput(input({ secrets: listed }))));
    expect(failure.type).toBe('untrusted');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('secret "token" may go only to api.example.org; with.url points at 127.0.0.1, so nothing was sent');
    const ok = await new MockActivityEnvironment().run(
      echo,
      signedInput(input({ secrets: listed, with: { url: 'https://API.example.org/x', headers: { a: { $secret: 'token' } } } })),
    );
    expect((ok as ActionResult).outputs.status).toBe(200);
  });
});

describe('secret references come only from the plan', () => {
  it('secretPaths finds where a template puts references', () => {
    expect(secretPaths({ url: 'http://x/${{ params.p }}', headers: { A: 'Bearer ${{ secrets.t }}' }, list: ['${{ secrets.u }}', 'x'] })).toEqual([
      ['headers', 'A'],
      ['list', 0],
    ]);
    // A generated failback plan carries references as objects in its (signed) template.
    expect(secretPaths({ powerdns: { api_key: { $secret: 'pdns' } } })).toEqual([['powerdns', 'api_key']]);
  });

  it('a {"$secret": …} that arrived as data stays data', async () => {
    process.env.REBOUND_TEST_TRUST_TOKEN = 'tok-abcdef';
    const refs = { token: { env: 'REBOUND_TEST_TRUST_TOKEN' } };
    const { value } = await resolveSecrets({ real: { $secret: 'token' }, alert: { note: { $secret: 'token' } } }, refs, new Set(), [['real']]);
    expect(value).toEqual({ real: 'tok-abcdef', alert: { note: { $secret: 'token' } } });
  });
});

describe('file secrets', () => {
  const refs = (file: string) => ({ s: { file } });
  const read = (file: string) => resolveSecrets({ $secret: 's' }, refs(file), new Set(), [[]]);

  it('are off unless the worker names its secrets folder', async () => {
    await expect(read('/etc/hostname')).rejects.toThrow('file secrets are off on this worker; set REBOUND_SECRETS_DIR');
  });

  it('are read inside the folder and refused outside it, through .. or a link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-secrets-dir-'));
    writeFileSync(join(dir, 'ok'), 'inside\n');
    const outside = mkdtempSync(join(tmpdir(), 'rebound-outside-'));
    writeFileSync(join(outside, 'loot'), 'outside');
    symlinkSync(join(outside, 'loot'), join(dir, 'link'));
    process.env.REBOUND_SECRETS_DIR = dir;
    expect((await read('ok')).value).toBe('inside');
    expect((await read(join(dir, 'ok'))).value).toBe('inside');
    await expect(read(`../${outside.split('/').pop()}/loot`)).rejects.toThrow('is outside REBOUND_SECRETS_DIR');
    await expect(read('link')).rejects.toThrow('is outside REBOUND_SECRETS_DIR');
    await expect(read('/etc/hostname')).rejects.toThrow('is outside REBOUND_SECRETS_DIR');
  });
});

describe('masking', () => {
  it('masks a secret whatever its length', () => {
    expect(mask('pin 7 then ab', ['7', 'ab'])).toBe('pin *** then ***');
  });

  it('masks a secret JSON-escaped, URL-encoded and base64-encoded', () => {
    const secret = 'p"a\\ss/w+rd?';
    const echoed = JSON.stringify({ body: `got ${secret}` });
    expect(mask(echoed, [secret])).not.toContain('a\\\\ss');
    expect(mask(echoed, [secret])).toBe('{"body":"got ***"}');
    expect(mask(`q=${encodeURIComponent(secret)}`, [secret])).toBe('q=***');
    const b64 = Buffer.from(secret).toString('base64');
    expect(mask(`Basic ${b64} and ${Buffer.from(secret).toString('base64url')}`, [secret])).toBe('Basic *** and ***');
  });
});
