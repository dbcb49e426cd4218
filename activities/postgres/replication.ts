// postgres.replication: a primary's standbys (pg_stat_replication) or a standby's receive/replay positions against its primary, lag as an RPO figure, the max_lag limits.
import type { z } from 'zod';
import { postgresReplication } from '../../contract/actions/postgres-replication.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { withClient } from './connection.ts';
import { checkLimits, describeLag, measureStandby, primaryLag, readStandbys } from './lag.ts';
import { readRole, serverName } from './server-state.ts';

type Output = z.input<typeof postgresReplication.output>;

export const postgresReplicationImpl = defineImpl({
  spec: postgresReplication,
  async run(input, ctx) {
    const name = serverName(input.server);
    const output = await withClient(
      input.server,
      async (client): Promise<Output> => {
        const role = await readRole(client);
        const standbys = role.standby ? [] : await readStandbys(client);
        const lag = role.standby ? await measureStandby(client, input.primary, ctx) : primaryLag(standbys, role.now);
        return {
          ...(input.service ? { service: input.service } : {}),
          server: name,
          role: role.standby ? 'standby' : 'primary',
          timeline: role.timeline,
          current_lsn: role.current_lsn,
          standbys,
          upstream: role.upstream,
          ...lag,
          rpo_method: 'replica lag',
        };
      },
      ctx.mask,
    );
    const who = output.role === 'standby' ? `standby ${name}` : `primary ${name} (${output.standbys.length} standbys)`;
    ctx.log('info', `${who}: ${describeLag(output)}`);
    checkLimits(input, output, who);
    return output;
  },
});
