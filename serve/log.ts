// One JSON line per event on stdout, for log shippers; callers pass only fields that hold no secrets. Strings are capped and their control characters escaped.
export type LogFields = Record<string, string | number | boolean | string[] | undefined>;

export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: LogFields) => void;

/** Characters of one string field, and strings of one list: alert text must not flood the log. */
const FIELD_CHARS = 1024;
const FIELD_ITEMS = 500;

// C0, DEL and C1 (U+009B alone starts an ANSI sequence), line separators, bidi overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Alert labels and annotations are the sender's text: a terminal showing the log must not act
 * on it. JSON escapes C0 only; this writes every unsafe character as visible `\xNN` / `\uNNNN`.
 */
function safe(text: string): string {
  const capped = text.length > FIELD_CHARS ? `${text.slice(0, FIELD_CHARS)}… (${text.length - FIELD_CHARS} more characters)` : text;
  return capped.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function safeValue(value: string | number | boolean | string[]): string | number | boolean | string[] {
  if (typeof value === 'string') return safe(value);
  if (!Array.isArray(value)) return value;
  const items = value.slice(0, FIELD_ITEMS).map(safe);
  return value.length > FIELD_ITEMS ? [...items, `… (${value.length - FIELD_ITEMS} more)`] : items;
}

export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return (level, msg, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: safe(msg) };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) entry[safe(key)] = safeValue(value);
    write(`${JSON.stringify(entry)}\n`);
  };
}
