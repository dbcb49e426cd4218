// Located compile errors of dns.switch's Route 53 routing-policy fields (set_identifier, weight, failover, region); the actions themselves: test/integration/route53-policies.test.ts.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

describe('compile errors of the policy fields', () => {
  const runbook = (withLines: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: t}
spec:
  secrets:
    k: {env: PDNS_API_KEY}
  steps:
    - id: shift
      uses: dns.switch
      with:
        provider: PROVIDER
        zone: example.net.
        name: api.example.net.
        type: A
${withLines}`;
  const errorsOf = (text: string) => compile(text, { file: 'rb.yaml' }).errors.map((e) => e.format());

  it('set_identifier with powerdns is located at set_identifier', () => {
    const text = runbook(
      '        set_identifier: primary\n        weight: 10\n        powerdns: {api_url: "http://pdns:8081", api_key: "${{ secrets.k }}"}\n',
    ).replace('PROVIDER', 'powerdns');
    expect(errorsOf(text)).toEqual([
      'rb.yaml:15:25: step "shift" (dns.switch) with: set_identifier: set_identifier names a Route 53 routing-policy record; PowerDNS has none (use provider route53)',
    ]);
  });

  it('two routing policies at once are located at the second', () => {
    const text = runbook('        set_identifier: primary\n        weight: 10\n        failover: PRIMARY\n').replace('PROVIDER', 'route53');
    expect(errorsOf(text)).toEqual([
      'rb.yaml:17:19: step "shift" (dns.switch) with: failover: a record has one routing policy: give one of weight, failover, not 2',
    ]);
  });

  it('a policy without set_identifier, and a simple record without values, are refused; set_identifier alone needs no values', () => {
    expect(errorsOf(runbook('        values: [192.0.2.1]\n        weight: 10\n').replace('PROVIDER', 'route53'))).toEqual([
      'rb.yaml:16:17: step "shift" (dns.switch) with: weight: weight belongs to a Route 53 routing-policy record: give set_identifier too',
    ]);
    expect(errorsOf(runbook('        ttl: 60\n').replace('PROVIDER', 'route53'))).toEqual([
      'rb.yaml:11:9: step "shift" (dns.switch) with: values: missing required field "values" (expected array)',
    ]);
    expect(errorsOf(runbook('        set_identifier: primary\n        weight: 10\n').replace('PROVIDER', 'route53'))).toEqual([]);
  });
});
