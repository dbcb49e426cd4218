// Debian's Chromium for the console's browser tests: playwright-core drives this binary (executablePath), so nothing ever downloads a browser.
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.ts';

/** Where Debian's package puts the launcher (a script that sets flags, then execs /usr/lib/chromium/chromium). */
export const CHROMIUM = '/usr/bin/chromium';

/** The chromium binary, installed with apt-get (as root) when missing. */
export function ensureChromium(log: (line: string) => void = () => {}): string {
  aptInstall('Chromium', ['chromium'], () => existsSync(CHROMIUM), log);
  return CHROMIUM;
}
