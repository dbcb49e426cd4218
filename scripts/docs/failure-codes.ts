// The docs page of failure codes (docs/failure-codes.md), rendered from the catalog in contract/failures.ts so the two cannot drift.
import { FAILURE_CODES, replacedBy, SEARCH_ERROR_TYPES, type FailureCode } from '../../contract/failures.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function table(): string[] {
  const rows = (Object.keys(FAILURE_CODES) as FailureCode[]).map((code) => {
    const { retryable, meaning } = FAILURE_CODES[code];
    const older = replacedBy(code).map((name) => `\`${name}\``);
    return `| \`${code}\` | ${retryable ? 'yes' : 'no'} | ${cell(meaning)} | ${older.join(', ') || '—'} |`;
  });
  return ['| code | retryable by default | meaning | older names it replaces |', '| --- | --- | --- | --- |', ...rows];
}

/** "`a` and `b` as `not_found`; …": the search error types, grouped by the code each reads as. */
function searchTypes(): string {
  const by = new Map<FailureCode, string[]>();
  for (const [type, code] of Object.entries(SEARCH_ERROR_TYPES)) by.set(code, [...(by.get(code) ?? []), `\`${type}\``]);
  return [...by].map(([code, types]) => `${types.join(', ')} as \`${code}\``).join('; ');
}

export const page = {
  path: 'docs/failure-codes.md',
  render: (): string =>
    [
      '<!-- Generated from contract/failures.ts by scripts/docs/failure-codes.ts; edit those, not this file. -->',
      '# Failure codes',
      '',
      'Every action fails with one of these codes. It is the Temporal failure type of the failed',
      "activity, the `code` in its failure details, and what a step's `retry.non_retryable` lists:",
      '',
      '```yaml',
      'retry: {max_attempts: 5, non_retryable: [auth_failed, not_found]}',
      '```',
      '',
      'An action says in each failure whether retrying can help; "retryable by default" is the',
      'verdict it gives unless it knows better (`http.request` answered 503 is a retried',
      '`check_failed`, answered 404 one that is not). `non_retryable` matters for failures that',
      'would be retried: it stops those of the listed codes at the first attempt. Every failure',
      'message says which backend and step failed and whether it will be retried.',
      '',
      ...table(),
      '',
      '## Older names',
      '',
      'Before this catalog, actions failed with codes of their own. A runbook that lists an older',
      'name still compiles and still stops retrying: `rebound validate` and `rebound plan` print a',
      'located warning naming the code to write, and the plan lists that code beside the old name.',
      'The Elasticsearch/OpenSearch error types the search actions used as codes (`*_exception`)',
      `are read the same way: ${searchTypes()}; any other as \`rejected\`.`,
      'A name that is neither a code nor an older name is a compile error.',
      '',
    ].join('\n'),
};
