// dns.switch simulated against a real PowerDNS with a drill's carried state (ActionInput.drill_state): the record as an earlier simulated step would have left it is what the preflight finds, guards and changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsSwitchImpl } from '../../activities/dns/switch.ts';
import type { ActionInput } from '../../contract/run.ts';
import { startPowerDns, type PowerDnsServer } from '../../stack/powerdns.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';

let pdns: PowerDnsServer;
const SECRETS: ActionInput['secrets'] = { pdns_key: { env: 'DRILL_TEST_PDNS_KEY' } };
const steps = stepRunner({ runbook: 'failover', runId: 'drill-1', step: 'dns-back', secrets: SECRETS });

beforeAll(async () => {
  pdns = await startPowerDns({ log: console.log });
  await pdns.api('POST', '/zones', { name: 'example.org.', kind: 'Native', nameservers: ['ns1.example.org.'] });
  process.env.DRILL_TEST_PDNS_KEY = pdns.apiKey;
  // Today's real record: the primary's address.
  await pdns.api('PATCH', '/zones/example.org.', {
    rrsets: [{ name: 'orders.example.org.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '10.0.0.1', disabled: false }] }],
  });
}, 600_000);
afterAll(async () => {
  await pdns?.stop();
});

/** The DNS return of a failover drill: back to the primary, guarded by the standby's address the switch before set. */
const back = (expect_current: unknown) => ({
  provider: 'powerdns',
  zone: 'example.org.',
  name: 'orders.example.org.',
  type: 'A',
  values: ['10.0.0.1'],
  ttl: 300,
  expect_current,
  powerdns: { api_url: pdns.apiUrl, api_key: { $secret: 'pdns_key' }, resolver: `127.0.0.1:${pdns.dnsPort}` },
});
const away = { state: { values: ['10.0.1.1'], ttl: 60 }, from: 'dns-away' };

describe('dns.switch preflight with a carried state', () => {
  it('finds the record as the earlier simulated switch would have left it, so the return would change it', async () => {
    const { outputs } = await steps.run(dnsSwitchImpl, back(['10.0.1.1']), { simulate: true, drill_state: away });
    expect(outputs).toMatchObject({ changed: true, simulated: true, previous: away.state, current: { values: ['10.0.0.1'], ttl: 300 } });
    const preflight = (outputs.preflight as string[]).join('\n');
    expect(preflight).toContain('the record as the earlier step "dns-away" would have left it: [10.0.1.1] (ttl 60) (really there now: [10.0.0.1] (ttl 300))');
    expect(preflight).toContain('expect_current matches');
    expect(preflight).toContain('would set orders.example.org. A from [10.0.1.1] (ttl 60) to [10.0.0.1] (ttl 300)');
    expect(preflight).not.toContain('already');
    // What the authoritative server answers is compared with the real record, not the carried one.
    expect(preflight).not.toContain('differs from the API');
    // The real record is what it was: a drill changes nothing.
    const zone = await pdns.api<{ rrsets: { name: string; records: { content: string }[] }[] }>('GET', '/zones/example.org.');
    expect(zone.rrsets.find((r) => r.name === 'orders.example.org.')!.records.map((r) => r.content)).toEqual(['10.0.0.1']);
  });

  it("without one, the same step reads today's record: already at the target, and its guard is not even reached", async () => {
    const { outputs } = await steps.run(dnsSwitchImpl, back(['10.0.1.1']), { simulate: true });
    expect(outputs).toMatchObject({ changed: false, previous: { values: ['10.0.0.1'], ttl: 300 } });
  });

  it('a guard that the carried state breaks refuses, as a run after the earlier step would', async () => {
    const error = await failureOf(steps.run(dnsSwitchImpl, back(['10.0.0.9']), { simulate: true, drill_state: away }));
    expect(error.message).toContain('orders.example.org. A holds [10.0.1.1] (ttl 60), but expect_current is [10.0.0.9]');
  });
});
