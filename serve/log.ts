// One JSON line per event on stdout, for log shippers; callers pass only fields that hold no secrets.
export type LogFields = Record<string, string | number | boolean | string[] | undefined>;

export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: LogFields) => void;

export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return (level, msg, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) entry[key] = value;
    write(`${JSON.stringify(entry)}\n`);
  };
}
