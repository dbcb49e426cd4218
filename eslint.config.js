// ESLint: typescript-eslint's recommended rules plus the layering rules of ARCHITECTURE.md.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
  name,
  message: 'this layer runs inside the workflow sandbox or is shared with it: no Node APIs here',
}));
const ours = (folders, message) => ({ group: folders.map((f) => `**/${f}/**`), message });

/** `folder` may import none of `forbidden` (and, if `nodeFree`, no Node built-in). */
const layer = (folder, forbidden, { nodeFree = false } = {}) => ({
  files: [`${folder}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        ...(nodeFree ? { paths: nodeBuiltins } : {}),
        patterns: [ours(forbidden, `${folder}/ may not import ${forbidden.join(', ')} (see ARCHITECTURE.md)`)],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'dist/', 'bench/results/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  layer('contract', ['compiler', 'workflows', 'activities', 'worker', 'client', 'serve', 'stack', 'cli'], { nodeFree: true }),
  layer('workflows', ['compiler', 'activities', 'worker', 'client', 'serve', 'stack', 'cli'], { nodeFree: true }),
  layer('compiler', ['workflows', 'activities', 'worker', 'client', 'serve', 'stack', 'cli']),
  layer('activities', ['compiler', 'workflows', 'worker', 'client', 'serve', 'stack', 'cli']),
  layer('client', ['workflows', 'activities', 'worker', 'serve', 'stack', 'cli']),
  // The alert receiver: contract/, compiler/ and client/ only.
  layer('serve', ['workflows', 'activities', 'worker', 'stack', 'cli', 'test', 'bench', 'scripts']),
  // The console: contract/, compiler/, client/, the restore-point catalog, and serve's approvers file for identity.
  {
    files: ['console/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ours(
              ['workflows', 'worker', 'stack', 'cli', 'test', 'bench', 'scripts'],
              'console/ may not import workflows, worker, stack, cli (see ARCHITECTURE.md)',
            ),
            { group: ['**/activities/*', '!**/activities/restore-points'], message: 'console/ reads restore points only (activities/restore-points/)' },
            { group: ['**/serve/**', '!**/serve/approvers.ts'], message: 'console/ takes only the approvers file from serve/ (serve/approvers.ts)' },
          ],
        },
      ],
    },
  },
  layer('worker', ['compiler', 'serve', 'stack', 'cli']),
  layer('stack', ['compiler', 'serve', 'cli']),
  // Only the CLI (and tests) start the alert receiver.
  layer('bench', ['serve']),
  layer('scripts', ['serve']),
);
