// The storage layout of restore points: `<service>/<kind>/<id>/`, its objects, manifest and verdict; the names allowed in it, and where a manifest sits.

/** A service name: one path segment, never `.`/`..` (it starts with a letter or digit). */
export const SERVICE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A kind of point (postgres, k8s-volume …). */
export const KIND_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A restore point id as restorePointId makes them: the step's first scheduled time, then eight characters of a hash. */
export const POINT_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-z]{8}$/;

export interface Place {
  service: string;
  kind: string;
  id: string;
}

/** Why a service, kind or id cannot name a folder of the store; undefined when all three can. */
export function placeProblem(place: Place): string | undefined {
  if (typeof place.service !== 'string' || !SERVICE_PATTERN.test(place.service)) return `'${String(place.service)}' is not a service name`;
  if (typeof place.kind !== 'string' || !KIND_PATTERN.test(place.kind)) return `'${String(place.kind)}' is not a kind of restore point`;
  if (typeof place.id !== 'string' || !POINT_ID_PATTERN.test(place.id)) return `'${String(place.id)}' is not a restore point id`;
  return undefined;
}

/**
 * The folder of one restore point inside a store, without its closing slash. It throws on
 * a name that is not one safe segment: a manifest claiming id `..` must never become a
 * prefix that reaches the service's folder, or every service's.
 */
export function pointPrefix(service: string, kind: string, id: string): string {
  const problem = placeProblem({ service, kind, id });
  if (problem) throw new Error(`restore point ${JSON.stringify({ service, kind, id })}: ${problem}`);
  return `${service}/${kind}/${id}`;
}

/** The folder a delete of one point may remove, with its closing slash: exactly three safe segments. */
export function pointFolder(point: Place): string {
  const folder = `${pointPrefix(point.service, point.kind, point.id)}/`;
  if (folder.split('/').length !== 4) throw new Error(`refusing to delete ${folder}: not one restore point's folder`);
  return folder;
}

/** The key of an object of a point (its data, or one of several objects). */
export function objectKey(point: Place, object: string): string {
  return `${pointPrefix(point.service, point.kind, point.id)}/${object}`;
}

/** The manifest commits a point: written last, deleted first. */
export const MANIFEST = 'manifest.json';
/** The verdict of backup.verify, beside the manifest (storage stays the truth). */
export const VERIFICATION = 'verification.json';

/** The place a manifest's key names (`<service>/<kind>/<id>/manifest.json`), or why it names none. */
export function placeOfManifest(key: string): Place | string {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[3] !== MANIFEST) return 'is not at <service>/<kind>/<id>/manifest.json';
  const place = { service: parts[0]!, kind: parts[1]!, id: parts[2]! };
  return placeProblem(place) ?? place;
}

/** Whether a manifest claims the place it was found at; the claim that differs, said for a report. */
export function claimProblem(claim: Place, at: Place): string | undefined {
  for (const field of ['id', 'service', 'kind'] as const) {
    if (claim[field] !== at[field]) return `claims ${field} '${String(claim[field])}'`;
  }
  return undefined;
}
