// http.check's `expect_json`: one assertion or a list on dotted JSON paths, each naming the path, the value found and what was expected when it fails.
import type { JsonAssertion } from '../../contract/actions/http.ts';

/** `db.lag`, `items.0.id`: object keys and array indexes alike; a missing step reads as undefined. */
function jsonField(value: unknown, path: string): unknown {
  for (const key of path.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const show = (value: unknown): string => (value === undefined ? 'absent' : JSON.stringify(value));

/** Some APIs send numbers as strings ("0.25"); an ordering operator compares them as numbers too. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function holds(assertion: JsonAssertion, actual: unknown): boolean {
  // `equals` and `==` are strict, as `equals` always was: "2" is not 2.
  if ('equals' in assertion) return actual === assertion.equals;
  if (assertion.op === '==') return actual === assertion.value;
  if (assertion.op === '!=') return actual !== assertion.value;
  // The schema gives an ordering operator a number to compare with.
  const [n, limit] = [asNumber(actual), assertion.value as number];
  if (n === undefined) return false;
  switch (assertion.op) {
    case '<':
      return n < limit;
    case '<=':
      return n <= limit;
    case '>':
      return n > limit;
    default:
      return n >= limit;
  }
}

/**
 * What failed, one phrase per assertion that does not hold (`db.lag is 7, expected < 5`);
 * empty when all hold. The single-object form words its failure as it always has.
 */
export function failedAssertions(parsed: unknown, expected: JsonAssertion | JsonAssertion[]): string[] {
  const list = Array.isArray(expected) ? expected : [expected];
  return list.flatMap((assertion) => {
    const actual = jsonField(parsed, assertion.path);
    if (holds(assertion, actual)) return [];
    const wanted = 'equals' in assertion ? JSON.stringify(assertion.equals) : `${assertion.op} ${JSON.stringify(assertion.value)}`;
    const why = !('equals' in assertion) && !['==', '!='].includes(assertion.op!) && asNumber(actual) === undefined ? ' (not a number)' : '';
    return [`${assertion.path} is ${show(actual)}, expected ${wanted}${why}`];
  });
}
