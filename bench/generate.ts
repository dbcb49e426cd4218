// Benchmark runbook generators: a chain of log steps for the interpreter (P1) and a wide conditional fan-out for the compiler (P6).
/** A runbook of `n` log steps in a chain, every tenth one reading the step before it. */
export function chainRunbook(n: number, name = 'bench'): string {
  const lines = [
    `apiVersion: rebound/v1`,
    `kind: Runbook`,
    `metadata: {name: ${name}}`,
    `spec:`,
    `  parameters: {region: {type: string, default: eu}}`,
    `  steps:`,
  ];
  for (let i = 0; i < n; i++) {
    const message = i > 0 && i % 10 === 0 ? `"after \${{ steps.step-${i - 1}.outputs.message }} in \${{ params.region }}"` : `step ${i}`;
    lines.push(`    - id: step-${i}`, `      uses: log`, `      with: {message: ${message}}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A wider runbook for the compiler: fan-out groups joined by needs, with conditions. */
export function wideRunbook(n: number): string {
  const lines = [
    `apiVersion: rebound/v1`,
    `kind: Runbook`,
    `metadata: {name: wide}`,
    `spec:`,
    `  parameters: {go: {type: boolean, default: true}}`,
    `  steps:`,
  ];
  for (let i = 0; i < n; i++) {
    const group = Math.floor(i / 10);
    const needs =
      i % 10 === 0 && i > 0 ? `[${Array.from({ length: 9 }, (_, k) => `s${(group - 1) * 10 + k + 1}`).join(', ')}]` : i % 10 === 0 ? '[]' : `[s${group * 10}]`;
    lines.push(`    - id: s${i}`, `      uses: ${i % 3 === 0 ? 'http.check' : 'log'}`, `      needs: ${needs}`, `      if: "\${{ params.go }}"`);
    lines.push(i % 3 === 0 ? `      with: {url: "http://127.0.0.1:8080/s${i}", expect_status: 200}` : `      with: {message: "s${i}"}`);
  }
  return `${lines.join('\n')}\n`;
}
