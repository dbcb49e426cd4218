// What compiling a step needs to know: the source, the mode, names in scope, and where errors go.
import type { ActionSpec } from '../contract/action.ts';
import type { Mode } from '../contract/plan.ts';
import type { Channels } from './channels.ts';
import type { CompileError, CompileWarning } from './errors.ts';
import type { StepDocument } from './schema.ts';
import type { SiteScope } from './sites.ts';
import type { RunbookSource } from './source.ts';

export interface StepContext {
  source: RunbookSource;
  mode: Mode;
  params: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  /** Per secret: the hosts it declares, and the fixed destinations steps send it to (compiler/destinations.ts). */
  secretHosts: Map<string, { declared?: string[]; fixed: Set<string> }>;
  errors: CompileError[];
  /** What compiles but should be written another way; printed, never fatal. */
  warnings: CompileWarning[];
  /** Compiles a child runbook; returns its plan key, or undefined after reporting errors. */
  child(path: string, at: ReadonlyArray<PropertyKey>): string | undefined;
  /** spec.sites, spec.site and spec.site_timeout, for steps' `site:`. */
  sites: SiteScope;
  /** spec.channels, which notify steps (and spec.notify) name. */
  channels: Channels;
}

/** A step that passed the step schema, with the action it names (if known). */
export interface ParsedStep {
  doc: StepDocument;
  path: (string | number)[];
  spec?: ActionSpec;
}
