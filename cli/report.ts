// `rebound report RUN`: the run's report (objectives vs measured, timeline, approvals, changes) as Markdown, HTML or JSON.
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Client } from '@temporalio/client';
import { loadRunRecord } from '../client/record.ts';
import { buildReport } from '../client/report/build.ts';
import { renderReport, type ReportFormat } from '../client/report/render.ts';
import { UsageError } from './errors.ts';

const FORMATS: ReportFormat[] = ['md', 'json', 'html'];

/** --format, else the --out file's extension, else Markdown. */
export function reportFormat(format: string | undefined, out: string | undefined): ReportFormat {
  const chosen = format ?? ({ '.html': 'html', '.htm': 'html', '.json': 'json' } as Record<string, string>)[extname(out ?? '').toLowerCase()] ?? 'md';
  if (!FORMATS.includes(chosen as ReportFormat)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, not "${chosen}"`);
  return chosen as ReportFormat;
}

/** Renders a run's report; the text, for a caller (the demo) that writes it itself. */
export async function reportText(client: Client, run: string, format: ReportFormat): Promise<string> {
  const record = await loadRunRecord(client, run).catch((error: Error) => {
    throw new UsageError(`cannot read run ${run}: ${error.message}`);
  });
  return renderReport(buildReport(record), format);
}

export async function reportCommand(client: Client, run: string, options: { format?: string; out?: string }): Promise<void> {
  const text = await reportText(client, run, reportFormat(options.format, options.out));
  if (!options.out) return void process.stdout.write(text);
  writeFileSync(options.out, text);
  console.log(`report of ${run} written to ${options.out}`);
}
