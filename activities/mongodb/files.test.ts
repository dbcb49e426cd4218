// File-level coverage of what FerretDB cannot store: the dump writer and restore reader keep every BSON type and index spec, and build MongoDB's commands.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BSON, Binary, BSONRegExp, BSONSymbol, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'mongodb';
import { gzipObject, readDocuments, DocumentCounter, DocumentSplitter } from './bson-file.ts';
import { AS_STORED, createCommand, createIndexesCommand, decodeMetadata, encodeMetadata, metadataOf } from './metadata.ts';
import { documentsFor } from './restore.ts';
import { fileBase, mapNamespace, queryEscape, selectNamespace } from './namespaces.ts';
import { ActionError } from '../runtime/errors.ts';
import { ensurePymongo } from '../../stack/pymongo.ts';

/** Documents FerretDB v1.24.2 refuses or drops the connection over; real MongoDB stores them all. */
const UNSTORABLE = [
  { _id: 1, dec: Decimal128.fromString('1234567890.123456789012345678901234'), neg: Decimal128.fromString('-0.00') },
  { _id: 2, min: new MinKey(), max: new MaxKey() },
  { _id: 3, code: new Code('function () { return 1; }'), scoped: new Code('x + 1', { x: 1 }) },
  { _id: 4, nested: [[1, 2], [[3]], [], [{ a: [[new Int32(4)]] }]] },
  { _id: 5, 'dotted.key': 1, $dollar: { 'a.b': true }, nan: new Double(NaN), inf: new Double(-Infinity) },
  { _id: new ObjectId(), sym: new BSONSymbol('sym'), l: Long.fromString('-9223372036854775808'), d: new Double(-0), i: new Int32(-1) },
  {
    _id: { compound: [1, 'a'] },
    ts: new Timestamp({ t: 1, i: 2 }),
    re: new BSONRegExp('^x.*y$', 'imsux'),
    b: new Binary(Buffer.from('raw'), 0),
    u: new Binary(Buffer.alloc(16, 7), 4),
    md5: new Binary(Buffer.alloc(16, 9), 5),
    user: new Binary(Buffer.from('mine'), 128),
    old: new Date(-2208988800000),
    future: new Date(253402300799999),
  },
];
const RAW = UNSTORABLE.map((doc) => Buffer.from(BSON.serialize(doc)));

async function storedObject(raw: Buffer[], batchSizes: number[]): Promise<{ stored: Buffer; size: number; sha256: string }> {
  async function* batches() {
    let at = 0;
    for (const n of batchSizes) {
      yield raw.slice(at, at + n);
      at += n;
    }
  }
  const { body, digest } = gzipObject(batches(), 6);
  const stored = await buffer(body);
  return { stored, size: digest.bytes, sha256: digest.sha256 };
}

async function readBack(stored: Buffer, expected: { size: number; sha256: string }, batchBytes = 1 << 20): Promise<Buffer[][]> {
  const batches: Buffer[][] = [];
  // Tiny chunks: documents cross every chunk boundary the reader can meet.
  const chunks = Array.from({ length: Math.ceil(stored.length / 7) }, (_, i) => stored.subarray(i * 7, i * 7 + 7));
  for await (const batch of readDocuments(Readable.from(chunks), { name: 'app/t.bson.gz', ...expected }, batchBytes)) batches.push(batch);
  return batches;
}

describe('bson files: what the writer writes the reader returns unchanged', () => {
  it('keeps the bytes of Decimal128, MinKey/MaxKey, code, nested arrays, $ and dotted keys, NaN, symbols and the rest', async () => {
    const { stored, size, sha256 } = await storedObject(RAW, [2, 0, 3, 2]);
    expect(stored.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const batches = await readBack(stored, { size, sha256 }, 64);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(RAW);
  });

  it("keeps every byte when documents fill the writer's reused staging buffers many times over, and when one is larger than a buffer", async () => {
    // ~6 MB of 3 KB documents with a 3 MB one among them: each 1 MB stage is filled, handed to gzip and refilled several times.
    const docs = Array.from({ length: 2000 }, (_, i) =>
      Buffer.from(BSON.serialize({ _id: i, body: createHash('sha256').update(String(i)).digest('hex').repeat(48) })),
    );
    docs.splice(1000, 0, Buffer.from(BSON.serialize({ _id: 'big', body: 'x'.repeat(3 << 20) })));
    const { stored, size, sha256 } = await storedObject(docs, [7, 500, 0, 494, 999, 1]);
    const back = (await readBack(stored, { size, sha256 }, 4 << 20)).flat();
    expect(back.length).toBe(docs.length);
    expect(Buffer.concat(back).equals(Buffer.concat(docs))).toBe(true);
  });

  it('builds inserts that serialize to the dumped bytes, type for type', () => {
    for (const [i, doc] of documentsFor(RAW).entries()) expect(Buffer.from(BSON.serialize(doc))).toEqual(RAW[i]);
  });

  it('is plain mongodump BSON: PyMongo decodes every document to the same bytes', async () => {
    const { stored } = await storedObject(RAW, [RAW.length]);
    const dir = mkdtempSync(join(tmpdir(), 'rebound-bson-'));
    const file = join(dir, 't.bson.gz');
    writeFileSync(file, stored);
    const python = spawnSync('python3', [join(import.meta.dirname, '../../test/helpers/read-bson.py'), file], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: ensurePymongo() },
    });
    expect(python.stderr).toBe('');
    const hashes = JSON.parse(python.stdout)[file];
    // Symbols decode to Python strings: every other document comes back byte for byte.
    const expected = RAW.map((doc) => createHash('sha256').update(doc).digest('hex'));
    expect(hashes.filter((h: string, i: number) => h === expected[i]).length).toBe(RAW.length - 1);
    expect(hashes[5]).not.toBe(expected[5]);
  });

  it('refuses flipped bytes and truncated documents without retry', async () => {
    const { stored, size, sha256 } = await storedObject(RAW, [RAW.length]);
    const flipped = Buffer.from(stored);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    const error = await readBack(flipped, { size, sha256 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionError);
    expect(error).toMatchObject({ code: 'verification_failed', retryable: false });
    const splitter = new DocumentSplitter('x.bson');
    splitter.push(RAW[0]!.subarray(0, 10));
    expect(() => splitter.end()).toThrow(/not a BSON file/);
  });

  it('counts the documents and raw bytes of a .bson.gz passing through, bytes unchanged (mongodump files on their way to storage)', async () => {
    const { stored } = await storedObject(RAW, [1, 3, 3]);
    const counter = new DocumentCounter('app/t.bson.gz');
    const chunks = Array.from({ length: Math.ceil(stored.length / 5) }, (_, i) => stored.subarray(i * 5, i * 5 + 5));
    expect(await buffer(Readable.from(chunks).pipe(counter))).toEqual(stored);
    expect([counter.documents, counter.bson]).toEqual([RAW.length, RAW.reduce((sum, d) => sum + d.length, 0)]);

    const truncated = new DocumentCounter('app/t.bson.gz');
    const error = await buffer(Readable.from([stored.subarray(0, stored.length - 12)]).pipe(truncated)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'verification_failed', retryable: false });
    const notBson = new DocumentCounter('app/t.bson.gz');
    const { stored: garbage } = await storedObject([Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3])], [1]);
    expect(await buffer(Readable.from([garbage]).pipe(notBson)).catch((e: unknown) => e)).toMatchObject({ message: expect.stringMatching(/not a BSON file/) });
  });
});

describe('metadata: index specs and options as mongodump records them', () => {
  const indexes = [
    { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' },
    { v: new Int32(2), key: { at: new Int32(1) }, name: 'ttl', expireAfterSeconds: new Int32(3600) },
    { v: new Int32(2), key: { status: new Int32(1) }, name: 'partial', partialFilterExpression: { status: { $eq: 'open' } } },
    {
      v: new Int32(2),
      key: { _fts: 'text', _ftsx: new Int32(1) },
      name: 'body_text',
      weights: { body: new Int32(3), title: new Int32(10) },
      default_language: 'english',
      language_override: 'language',
      textIndexVersion: new Int32(3),
    },
    { v: new Int32(2), key: { loc: '2dsphere' }, name: 'loc_2dsphere', '2dsphereIndexVersion': new Int32(3) },
    { v: new Int32(2), key: { a: new Int32(-1), b: new Double(1) }, name: 'a_-1_b_1', unique: true, ns: 'app.t' },
  ];
  const entry = {
    name: 'events.log',
    type: 'collection',
    options: {
      capped: true,
      size: Long.fromNumber(1 << 20),
      max: Long.fromNumber(100),
      validator: { $jsonSchema: { required: ['at'] } },
      collation: { locale: 'fr', strength: new Int32(2) },
    },
    info: { uuid: new Binary(Buffer.from('00112233445566778899aabbccddeeff', 'hex'), 4), readOnly: false },
  };

  it('writes canonical Extended JSON in mongodump field order and reads it back unchanged', () => {
    const encoded = encodeMetadata(metadataOf(entry, indexes));
    const decoded = decodeMetadata(encoded, 'app/events.log.metadata.json.gz');
    expect(Object.keys(decoded)).toEqual(['options', 'indexes', 'uuid', 'collectionName', 'type']);
    expect(decoded.uuid).toBe('00112233445566778899aabbccddeeff');
    expect(BSON.serialize({ i: decoded.indexes })).toEqual(BSON.serialize({ i: indexes }));
    expect(BSON.serialize(decoded.options!)).toEqual(BSON.serialize(entry.options));
  });

  it('builds createIndexes and create as MongoDB expects: no _id_, no ns or v, every other option kept', () => {
    const metadata = decodeMetadata(encodeMetadata(metadataOf(entry, indexes)), 'm');
    const command = createIndexesCommand('events.log', metadata)!;
    expect(Object.keys(command)).toEqual(['createIndexes', 'indexes']);
    expect(command.indexes.map((i: { name: string }) => i.name)).toEqual(['ttl', 'partial', 'body_text', 'loc_2dsphere', 'a_-1_b_1']);
    const { v: _v, ns: _ns, ...last } = indexes[5]!;
    expect(BSON.serialize(command.indexes[4])).toEqual(BSON.serialize(last));
    const { v: _v2, ...text } = indexes[3]!;
    expect(BSON.serialize(command.indexes[2])).toEqual(BSON.serialize(text));
    const create = createCommand('events.log', metadata);
    expect(Object.keys(create)).toEqual(['create', 'capped', 'size', 'max', 'validator', 'collation']);
    expect(BSON.deserialize(BSON.serialize(create), AS_STORED).size).toBeInstanceOf(Long);
  });

  it('records views without indexes', () => {
    const view = metadataOf({ name: 'open', type: 'view', options: { viewOn: 'orders', pipeline: [{ $match: { open: true } }] } }, indexes);
    expect(view.indexes).toEqual([]);
    expect(createCommand('open', view)).toEqual({ create: 'open', viewOn: 'orders', pipeline: [{ $match: { open: true } }] });
  });
});

describe('namespaces', () => {
  it('names files as mongodump does', () => {
    expect(queryEscape('with.dots and spaces/ü$')).toBe('with.dots+and+spaces%2F%C3%BC%24');
    expect(fileBase('app', 'orders')).toBe('app/orders');
    const long = fileBase('app', 'x'.repeat(300));
    expect(long.length).toBe('app/'.length + 208 + 3 + 27);
  });

  it('selects and renames namespaces', () => {
    expect(selectNamespace('app', 'orders', [], [])).toBe(true);
    expect(selectNamespace('app', 'system.views', [], [])).toBe(false);
    expect(selectNamespace('admin', 'settings', [], [])).toBe(false);
    expect(selectNamespace('admin', 'settings', ['admin.*'], [])).toBe(true);
    expect(selectNamespace('app', 'orders', ['*.orders'], ['app.*'])).toBe(false);
    expect(selectNamespace('shop', 'orders', ['*.orders'], ['app.*'])).toBe(true);
    expect(mapNamespace({ db: 'app', collection: 'a.b' }, { from: 'app.*', to: 'scratch_app.*' })).toEqual({ db: 'scratch_app', collection: 'a.b' });
    expect(mapNamespace({ db: 'other', collection: 'x' }, { from: 'app.*', to: 'scratch_app.*' })).toEqual({ db: 'other', collection: 'x' });
    expect(() => mapNamespace({ db: 'app', collection: 'x' }, { from: 'app.*', to: 'flat' })).toThrow(/as many \*/);
  });
});
