// MongoDB test data on FerretDB: every BSON type it stores, a ~15 MB document, empty, capped and dotted collections, indexes; and raw fingerprints.
import { createHash } from 'node:crypto';
import { BSON, Binary, BSONRegExp, Double, Int32, Long, MongoClient, ObjectId, Timestamp, type Document } from 'mongodb';

/** Documents of every type FerretDB v1.24.2 stores (see files.test.ts for the ones it cannot). */
export function typedDocuments(): Keyed[] {
  return [
    {
      _id: new ObjectId('65f0a0a0a0a0a0a0a0a0a0a0'),
      text: 'héllo wörld ✓ 日本語 🚀',
      'ключ-ü': 'unicode key',
      i32: new Int32(-2147483648),
      i64: Long.fromString('9007199254740993'),
      dbl: new Double(3.141592653589793),
      negzero: new Double(-0),
      before1970: new Date(-1234567890123),
      after1970: new Date(Date.UTC(2038, 0, 19, 3, 14, 8)),
      ts: new Timestamp({ t: 1700000000, i: 42 }),
      bin0: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid4: new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4),
      md5: new Binary(Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex'), 5),
      user128: new Binary(Buffer.from('user defined'), 128),
      regex: new BSONRegExp('^ab+c$', 'imx'),
      nothing: null,
      yes: true,
      no: false,
      nested: { a: { b: { c: [new Int32(1), 'two', { three: new Double(3.5) }] } } },
      emptyDoc: {},
      emptyArray: [],
    },
    { _id: { region: 'eu', seq: new Int32(7) }, note: 'a non-scalar _id', tags: ['x', 'y'] },
    { _id: 'string-id', n: Long.fromNumber(-1) },
    { _id: new Int32(12), n: new Double(1e308) },
  ];
}

/** The _id types the seeded documents use (the driver's types assume ObjectId otherwise). */
type Keyed = { _id: ObjectId | Int32 | string | number | { region: string; seq: Int32 }; [field: string]: unknown };

/** Seeds database `db`: types, big (~15 MB), empty, capped, with.dots, orders with unique, compound and descending indexes. */
export async function seedTypes(url: string, db = 'app'): Promise<void> {
  const client = await MongoClient.connect(url);
  try {
    const d = { collection: (name: string) => client.db(db).collection<Keyed>(name), createCollection: client.db(db).createCollection.bind(client.db(db)) };
    await d.collection('types').insertMany(typedDocuments());
    await d.collection('big').insertOne({ _id: 'big', blob: 'x'.repeat(15 * 1024 * 1024), after: new Int32(1) });
    await d.createCollection('empty');
    await d.createCollection('capped', { capped: true, size: 1 << 20, max: 100 });
    await d.collection('capped').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: new Int32(i), at: new Date(i * 1000) })));
    await d.collection('with.dots').insertMany([
      { _id: 1, v: 'a' },
      { _id: 2, v: 'b' },
    ]);
    const orders = Array.from({ length: 2000 }, (_, i) => ({
      _id: new Int32(i),
      sku: `sku-${i % 500}`,
      qty: new Int32(Math.floor(i / 500) * 4),
      at: new Date(1.7e12 + i),
    }));
    await d.collection('orders').insertMany(orders);
    await d.collection('orders').createIndex({ sku: 1, qty: -1 }, { name: 'sku_qty', unique: true });
    await d.collection('orders').createIndex({ at: -1 }, { name: 'at_desc' });
  } finally {
    await client.close();
  }
}

export interface CollectionPrint {
  /** sha256 of each document's bytes, keyed by its _id in canonical Extended JSON. */
  documents: Record<string, string>;
  indexes: Document[];
  options: Document;
}

/** What a restore must reproduce, per collection of `db`: document bytes per _id, index specs, options. */
export async function fingerprint(client: MongoClient, db: string): Promise<Record<string, CollectionPrint>> {
  const out: Record<string, CollectionPrint> = {};
  for (const entry of await client.db(db).listCollections().toArray()) {
    const coll = client.db(db).collection(entry.name);
    const raw = (await coll.find({}, { raw: true }).toArray()) as unknown as Buffer[];
    const documents: Record<string, string> = {};
    for (const doc of raw) documents[BSON.EJSON.stringify(BSON.deserialize(doc)._id, { relaxed: false })] = createHash('sha256').update(doc).digest('hex');
    const indexes = (await coll.listIndexes().toArray())
      .map(({ v: _v, ns: _ns, ...spec }) => spec)
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    out[entry.name] = { documents, indexes, options: ('options' in entry ? entry.options : undefined) ?? {} };
  }
  return out;
}
