// How an action reaches EC2: region, an endpoint for tests or VPC endpoints, and keys from secrets (the ELBv2/Route 53 blocks' fields).
import { z } from 'zod';

export const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1');

const accessFields = {
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('another EC2 endpoint (a VPC endpoint, a test server); used for every region'),
  access_key: z.string().optional().describe("from a secret; absent: the worker's AWS credentials"),
  secret_key: z.string().optional(),
};
const together = (a: { access_key?: string; secret_key?: string }) => !a.access_key === !a.secret_key;
const pair = { message: 'give access_key and secret_key together', path: ['secret_key'] };

/** Without a region: for actions that take it from a restore point (prune, verify). */
export const Ec2AccessSchema = z.strictObject(accessFields).refine(together, pair);
export const Ec2Schema = z.strictObject({ region: Region, ...accessFields }).refine(together, pair);
export type Ec2Access = z.output<typeof Ec2AccessSchema>;

/** Credentials inside an `ec2:` block. */
export const EC2_SECRETS = ['ec2.access_key', 'ec2.secret_key'];
