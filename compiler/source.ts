import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { CompileError, type Location } from './errors.ts';

/** A parsed runbook file that can say where any path of its content was written. */
export class RunbookSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(file: string, text: string) {
    this.file = file;
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  syntaxErrors(): CompileError[] {
    return this.doc.errors.map((error) => {
      const [line, col] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return new CompileError('yaml_syntax', `YAML: ${message}`, { file: this.file, line, col });
    });
  }

  at(offset: number): Location {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
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
