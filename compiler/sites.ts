// Per-site steps: `spec.sites`, the `spec.site` default and each step's `site:` become task queues `rebound-<site>`.
import { parseDuration } from '../contract/duration.ts';
import type { PlanStep } from '../contract/plan.ts';
import { CompileError } from './errors.ts';
import { didYouMean } from './suggest.ts';
import type { RunbookSource } from './source.ts';

/** What the runbook declares about sites, as steps are compiled against it. */
export interface SiteScope {
  sites?: ReadonlySet<string>;
  /** `spec.site`: the site of steps that name none. */
  site?: string;
  timeoutMs: number;
}

/** A step waits this long for a worker of its site unless the runbook says otherwise. */
export const DEFAULT_SITE_TIMEOUT_MS = 5 * 60_000;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A site must be declared under spec.sites; the error points at where it is named. */
function checkName(site: string, scope: SiteScope, where: string, at: (string | number)[], source: RunbookSource, errors: CompileError[]): boolean {
  if (scope.sites?.has(site)) return true;
  const message = scope.sites
    ? `${where}: unknown site "${site}"; spec.sites declares ${[...scope.sites].join(', ')}${didYouMean(site, scope.sites)}`
    : `${where}: site "${site}" is not declared; list the sites under spec.sites (e.g. sites: [primary, dr])`;
  errors.push(new CompileError('unknown_site', message, source.locate(at)));
  return false;
}

/** Reads spec.sites, spec.site and spec.site_timeout (their shapes are checked by the document schema). */
export function siteScope(spec: Record<string, unknown>, source: RunbookSource, errors: CompileError[]): SiteScope {
  const list = Array.isArray(spec.sites) ? spec.sites.filter((s): s is string => typeof s === 'string') : undefined;
  const scope: SiteScope = {
    ...(list ? { sites: new Set(list) } : {}),
    timeoutMs: parseDuration(str(spec.site_timeout) ?? '') ?? DEFAULT_SITE_TIMEOUT_MS,
  };
  const site = str(spec.site);
  if (site && checkName(site, scope, 'spec.site', ['spec', 'site'], source, errors)) scope.site = site;
  return scope;
}

/** The step's site (its own or the default) and how long it waits for a worker there. */
export function stepSite(
  doc: { id: string; site?: string; site_timeout?: string },
  path: (string | number)[],
  scope: SiteScope,
  source: RunbookSource,
  errors: CompileError[],
): Pick<PlanStep, 'site' | 'site_timeout_ms'> {
  if (doc.site && !checkName(doc.site, scope, `step "${doc.id}"`, [...path, 'site'], source, errors)) return {};
  const site = doc.site ?? scope.site;
  if (!site) return {};
  return { site, site_timeout_ms: parseDuration(doc.site_timeout ?? '') ?? scope.timeoutMs };
}
