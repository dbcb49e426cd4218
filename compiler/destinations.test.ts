// Where secrets may go, at compile time: a run-time destination needs the secret's hosts, a fixed one is recorded as its hosts.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const runbook = (secret: string, url: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: hosts}
spec:
  parameters: {api_url: {type: string, default: "https://api.example.org/x"}}
  secrets: {token: ${secret}}
  steps:
    - id: call
      uses: http.request
      with:
        url: "${url}"
        method: POST
        headers: {Authorization: "Bearer \${{ secrets.token }}"}
`;

describe('secret destinations', () => {
  it('a secret sent to a destination from a parameter needs hosts, located at the destination', () => {
    const { errors } = compile(runbook('{env: TOKEN}', '${{ params.api_url }}'), { file: 'h.yaml' });
    expect(errors.map((e) => e.format())).toEqual([
      expect.stringMatching(
        /^h\.yaml:11:\d+: step "call" \(http\.request\) sends secret "token" to with\.url, which is computed at run time; declare the hosts/,
      ),
    ]);
  });

  it('with hosts declared it compiles, and the plan carries them for the worker', () => {
    const { plan, errors } = compile(runbook('{env: TOKEN, hosts: [api.example.org, "*.internal"]}', '${{ params.api_url }}'), { file: 'h.yaml' });
    expect(errors).toEqual([]);
    expect(plan!.secrets.token).toEqual({ env: 'TOKEN', hosts: ['api.example.org', '*.internal'] });
  });

  it('a fixed destination becomes the secret’s only host', () => {
    const { plan } = compile(runbook('{env: TOKEN}', 'https://Hooks.Example.org:8443/x'), { file: 'h.yaml' });
    expect(plan!.secrets.token).toEqual({ env: 'TOKEN', hosts: ['hooks.example.org'] });
  });

  it('a fixed destination outside the declared hosts is an error', () => {
    const { errors } = compile(runbook('{env: TOKEN, hosts: [api.example.org]}', 'https://evil.example.net/x'), { file: 'h.yaml' });
    expect(errors.map((e) => e.message)).toEqual([
      'step "call" (http.request) sends secret "token" to evil.example.net, which is not in its hosts (api.example.org)',
    ]);
  });
});
