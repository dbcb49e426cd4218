// The CLI's table layout: aligned columns, nothing trailing, short rows and a wide last column.
import { describe, expect, it } from 'vitest';
import { table } from './table.ts';

describe('table', () => {
  it('pads every column but the last to its widest cell, two spaces apart', () => {
    const text = table([
      ['ID', 'SERVICE', 'STATUS'],
      ['p-1', 'orders', 'verified'],
      ['p-22', 'billing-db', 'failed'],
    ]);
    expect(text.split('\n')).toEqual(['ID    SERVICE     STATUS', 'p-1   orders      verified', 'p-22  billing-db  failed']);
  });

  it('leaves no blanks at the end of a line, even after an empty last cell or a header narrower than its column', () => {
    const lines = table([
      ['NAME', 'NOTE'],
      ['a', ''],
      ['b', 'a long note'],
    ]).split('\n');
    expect(lines).toEqual(['NAME  NOTE', 'a', 'b     a long note']);
  });

  it('treats missing cells of a short row as empty', () => {
    expect(table([['A', 'B', 'C'], ['x']])).toBe('A  B  C\nx');
  });
});
