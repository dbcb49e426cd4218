// The CLI's one table layout: columns padded to their widest cell, two spaces apart, no trailing blanks.

/** Rows of cells (the first row is the header) as aligned lines; a short row leaves its missing cells empty. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
