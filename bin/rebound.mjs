#!/usr/bin/env node
// The `rebound` command. TypeScript runs through tsx, so `npx rebound` works after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
