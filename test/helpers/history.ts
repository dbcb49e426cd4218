// Test helper: a workflow history as searchable text with every payload decoded, to prove secrets never land in it.
/**
 * Everything a workflow history holds, as text: the event JSON plus every payload decoded
 * (payload data is base64 in JSON, so a plain search of the JSON would find nothing).
 */
export function historyText(history: unknown): string {
  const parts: string[] = [JSON.stringify(history)];
  const walk = (value: unknown, key?: string): void => {
    if (value instanceof Uint8Array) {
      if (key === 'data') parts.push(Buffer.from(value).toString('utf8'));
      return;
    }
    if (typeof value === 'string') {
      if (key === 'data') parts.push(Buffer.from(value, 'base64').toString('utf8'));
      return;
    }
    if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(history);
  return parts.join('\n');
}
