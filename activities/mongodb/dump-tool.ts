// mongodb.dump with the real mongodump: run it into a private folder, then upload its files as the driver path would have written them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import type { MongoClient } from 'mongodb';
import { Digest, type PointDraft, type PointObject } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { privateFolder, runBinary } from './binaries.ts';
import { DocumentCounter } from './bson-file.ts';
import { dumpRuns, pointFiles, type DatabaseSelection } from './database-tools.ts';
import { BSON_SUFFIX, fileBase, METADATA_SUFFIX, type Namespace } from './namespaces.ts';

/** Bytes under a folder so far; files that vanish while it looks are skipped. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile())
      total += await stat(join(entry.parentPath, entry.name)).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** `<db>/<file>` for every file mongodump wrote under `out`. */
async function writtenFiles(out: string): Promise<string[]> {
  const files: string[] = [];
  for (const db of await readdir(out, { withFileTypes: true }).catch(() => [])) {
    if (!db.isDirectory()) continue;
    for (const file of await readdir(join(out, db.name), { withFileTypes: true })) if (file.isFile()) files.push(`${db.name}/${file.name}`);
  }
  return files;
}

async function uploadFile(draft: PointDraft, name: string, file: string, onBytes: (delta: number) => void, signal: AbortSignal): Promise<PointObject> {
  if (!name.endsWith(BSON_SUFFIX)) {
    const data = await readFile(file);
    await draft.put(name, Readable.from([data]), signal);
    onBytes(data.length);
    return { name, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  }
  let seen = 0;
  const digest = new Digest((bytes) => {
    onBytes(bytes - seen);
    seen = bytes;
  });
  const counter = new DocumentCounter(name);
  let failure: Error | undefined;
  const body = pipeline(createReadStream(file), digest, counter, (error) => (failure = error ?? undefined));
  try {
    await draft.put(name, body, signal);
  } catch (error) {
    // A file that is not gzipped BSON says more than the upload it broke.
    throw failure instanceof ActionError ? failure : error;
  }
  return { name, size: digest.bytes, sha256: digest.sha256, documents: counter.documents };
}

export interface ToolDump {
  objects: PointObject[];
  namespaces: string[];
  documents: number;
}

/**
 * mongodump --gzip into a private folder, database by database, heartbeating the bytes it
 * has written once a second; then each of its files of a selected collection uploaded
 * through the draft with size, sha256 and (for data) a document count. The connection
 * string reaches mongodump only in the `--config` file.
 */
export async function dumpWithTool(
  client: MongoClient,
  draft: PointDraft,
  input: { source: string; parallel: number },
  targets: Namespace[],
  command: string,
  ctx: ActionContext,
): Promise<ToolDump> {
  const databases: DatabaseSelection[] = [];
  for (const db of [...new Set(targets.map((t) => t.db))]) {
    const selected = targets.filter((t) => t.db === db).map((t) => t.collection);
    const listed = await client.db(db).listCollections({}, { nameOnly: true }).toArray();
    databases.push({ db, selected, others: listed.map((c) => c.name).filter((n) => !selected.includes(n)) });
  }
  const folder = await privateFolder('rebound-mongodump-', input.source);
  const out = join(folder.dir, 'dump');
  let phase = 'mongodump';
  let uploaded = 0;
  let busy = false;
  let stopped = false;
  const ticker = setInterval(() => {
    if (busy) return;
    busy = true;
    void folderBytes(out)
      .then((written) => stopped || ctx.heartbeat({ phase, written, uploaded }))
      .finally(() => (busy = false));
  }, 1000);
  try {
    for (const args of dumpRuns(databases, { config: folder.config, out, parallel: input.parallel })) {
      ctx.signal.throwIfAborted();
      await runBinary(command, args, ctx);
    }
    phase = 'upload';
    const names = pointFiles(await writtenFiles(out), targets);
    // One at a time: a failed upload then leaves none still running after the draft is discarded.
    const objects: PointObject[] = [];
    for (const name of names) objects.push(await uploadFile(draft, name, join(out, name), (delta) => (uploaded += delta), ctx.signal));
    if (!objects.length)
      throw new ActionError('not_found', 'mongodump wrote no file of the selected collections (were they dropped since they were listed?)', {
        retryable: true,
      });
    const dumped = new Set(objects.map((o) => o.name));
    return {
      objects,
      namespaces: targets.filter((t) => dumped.has(fileBase(t.db, t.collection) + METADATA_SUFFIX)).map((t) => `${t.db}.${t.collection}`),
      documents: objects.reduce((sum, o) => sum + (o.documents ?? 0), 0),
    };
  } finally {
    stopped = true;
    clearInterval(ticker);
    await folder.cleanup();
  }
}
