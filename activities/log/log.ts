// The log action: writes a runbook's message to the worker log and returns it with secrets masked.
import { defineImpl } from '../runtime/wrap.ts';
import { log as spec } from '../../contract/actions/log.ts';

export const logImpl = defineImpl({
  spec,
  async run(input, ctx) {
    ctx.log(input.level, input.message, { runbook: ctx.runbook });
    return { message: ctx.mask(input.message) };
  },
});
