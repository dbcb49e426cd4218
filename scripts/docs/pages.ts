// The generated documentation pages: `npm run docs` writes each, and test/docs.test.ts fails while any is stale.
import { page as actions } from './actions.ts';
import { page as cli } from './cli.ts';
import { page as failureCodes } from './failure-codes.ts';
import type { DocPage } from './page.ts';

export const PAGES: readonly DocPage[] = [actions, cli, failureCodes];
