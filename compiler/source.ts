// A parsed runbook file that can say where each part of it was written (file, line, column) for located errors.
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { CompileError, type Location } from './errors.ts';

/** A parsed runbook file that can say where any path of its content was written. */
export class RunbookSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  /**
   * Offsets at which each line starts, counted from the text itself: the parser's
   * LineCounter misses line breaks inside a broken flow collection, which put locations
   * past the end of their line.
   */
  private readonly lineStarts: number[];

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lineStarts = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    this.doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  }

  syntaxErrors(): CompileError[] {
    const seen = new Set<string>();
    return this.doc.errors.flatMap((error) => {
      const location = this.at(error.pos[0]);
      const line = this.text.split('\n')[location.line - 1] ?? '';
      // The classic trap: `{url: ${{ x }}}` — YAML reads the braces as a flow mapping.
      const hint = /[{[][^'"]*\$\{\{/.test(line) ? ' — an unquoted ${{ … }} inside {…} or […]? Quote it: "${{ … }}"' : '';
      const message = `YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}${hint}`;
      const key = `${location.line}:${message}`;
      if (seen.has(key)) return [];
      seen.add(key);
      return [new CompileError('yaml_syntax', message, location)];
    });
  }

  /**
   * The document as plain data, or an error for what YAML only finds while resolving
   * (an alias to an anchor not yet set, alias bombs).
   */
  toData(): { data?: unknown; error?: CompileError } {
    let collectionKey: CompileError | undefined;
    visit(this.doc, {
      Pair: (_, pair) => {
        const key = pair.key as Node | null;
        if (key && (isMap(key) || isSeq(key))) {
          const hint = String(key).includes('{') ? ' — an unquoted ${{ … }} inside {…}? Quote it: "${{ … }}"' : '';
          collectionKey = new CompileError('yaml_syntax', `YAML: a mapping key cannot be a collection${hint}`, this.at(key.range?.[0] ?? 0));
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (collectionKey) return { error: collectionKey };
    try {
      return { data: this.doc.toJS({ maxAliasCount: 100 }) };
    } catch (error) {
      let offset = 0;
      visit(this.doc, {
        Alias: (_, node) => {
          if (isAlias(node) && !node.resolve(this.doc)) {
            offset = node.range?.[0] ?? 0;
            return visit.BREAK;
          }
          return undefined;
        },
      });
      return { error: new CompileError('yaml_syntax', `YAML: ${(error as Error).message}`, this.at(offset)) };
    }
  }

  at(offset: number): Location {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= at) low = mid;
      else high = mid - 1;
    }
    return { file: this.file, line: low + 1, col: at - this.lineStarts[low]! + 1 };
  }

  /** The node at a path, or the deepest existing ancestor (so a missing key points at its parent). */
  node(path: ReadonlyArray<PropertyKey>, key = false): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return node;
        node = key && segment === path[path.length - 1] ? pair.key : pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
        node = node.items[segment];
      } else {
        return (node as Node) ?? undefined;
      }
    }
    return (node as Node) ?? undefined;
  }

  locate(path: ReadonlyArray<PropertyKey>, options: { key?: boolean; offset?: number } = {}): Location {
    const node = this.node(path, options.key);
    const start = node?.range?.[0] ?? 0;
    return this.at(start + (options.offset ?? 0));
  }

  /** Where the text of a scalar starts, past an opening quote, so offsets into it land right. */
  scalarTextOffset(path: ReadonlyArray<PropertyKey>): number | undefined {
    const node = this.node(path);
    if (!isScalar(node) || !node.range) return undefined;
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return 1;
    if (node.type === 'PLAIN') return 0;
    return undefined;
  }
}
