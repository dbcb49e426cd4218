// The storage layout of restore points: `<service>/<kind>/<id>/`, its objects, manifest and verdict.

/** The folder of one restore point inside a store. */
export function pointPrefix(service: string, kind: string, id: string): string {
  return `${service}/${kind}/${id}`;
}

/** The key of an object of a point (its data, or one of several objects). */
export function objectKey(point: { service: string; kind: string; id: string }, object: string): string {
  return `${pointPrefix(point.service, point.kind, point.id)}/${object}`;
}

/** The manifest commits a point: written last, deleted first. */
export const MANIFEST = 'manifest.json';
/** The verdict of backup.verify, beside the manifest (storage stays the truth). */
export const VERIFICATION = 'verification.json';
