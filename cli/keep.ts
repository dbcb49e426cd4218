/** `--keep`: leave the embedded stack up until Ctrl-C. */
export async function untilInterrupted(): Promise<void> {
  console.log('--keep: the stack stays up until Ctrl-C');
  await new Promise((r) => process.once('SIGINT', r));
}
