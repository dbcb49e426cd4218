// Did-you-mean hints for compile errors: the closest known name by edit distance, when it is close enough.
import { closest, distance } from 'fastest-levenshtein';

/** `; did you mean "x"?` when a known name is close enough to be the intended one. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const list = [...candidates];
  if (list.length === 0) return '';
  const best = closest(word, list);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? `; did you mean "${best}"?` : '';
}
