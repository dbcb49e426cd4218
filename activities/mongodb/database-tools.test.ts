// The pure half of the mongodump/mongorestore path: tool resolution from a PATH string, arguments, the config file, output and failure parsing. The binaries themselves cannot run here.
import { delimiter } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ActionError } from '../runtime/errors.ts';
import {
  chooseTool,
  configYaml,
  dumpRuns,
  findOnPath,
  isAuthFailure,
  localFile,
  pointFiles,
  restoreArgs,
  restoreSummary,
  retryableToolFailure,
  toolUri,
  versionLine,
} from './database-tools.ts';

/** A file system of these executable paths, for resolution only; nothing is run. */
const executables =
  (...files: string[]) =>
  (file: string) =>
    files.includes(file);
const PATH = ['/usr/local/bin', '/usr/bin', '/opt/mongodb-database-tools/bin'].join(delimiter);

function thrown(fn: () => unknown): ActionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ActionError);
    return error as ActionError;
  }
  throw new Error('expected an ActionError');
}

describe('finding the binaries on PATH', () => {
  it('takes the first directory that has an executable of that name', () => {
    const found = executables('/usr/bin/mongodump', '/opt/mongodb-database-tools/bin/mongodump');
    expect(findOnPath('mongodump', PATH, found)).toBe('/usr/bin/mongodump');
    expect(findOnPath('mongorestore', PATH, found)).toBeUndefined();
  });

  it('skips empty and relative entries, which name the working directory', () => {
    const found = executables('mongodump', 'bin/mongodump', '/srv/tools/mongodump');
    expect(findOnPath('mongodump', ['', '.', 'bin', '/srv/tools'].join(delimiter), found)).toBe('/srv/tools/mongodump');
    expect(findOnPath('mongodump', ['', '.', 'bin'].join(delimiter), found)).toBeUndefined();
    expect(findOnPath('mongodump', undefined, found)).toBeUndefined();
  });
});

describe('tool: auto | driver | mongodump', () => {
  const withBinaries = executables('/usr/bin/mongodump', '/usr/bin/mongorestore');
  const none = executables();

  it('auto takes the binary when PATH has it, else the driver', () => {
    expect(chooseTool({ choice: 'auto', binary: 'mongodump', path: PATH, executable: withBinaries })).toEqual({
      tool: 'mongodump',
      command: '/usr/bin/mongodump',
    });
    expect(chooseTool({ choice: 'auto', binary: 'mongorestore', path: PATH, executable: withBinaries })).toEqual({
      tool: 'mongodump',
      command: '/usr/bin/mongorestore',
    });
    expect(chooseTool({ choice: 'auto', binary: 'mongorestore', path: PATH, executable: none })).toEqual({ tool: 'driver', why: 'no mongorestore on PATH' });
  });

  it('driver is the driver even where the binaries are', () => {
    expect(chooseTool({ choice: 'driver', binary: 'mongodump', path: PATH, executable: withBinaries }).tool).toBe('driver');
  });

  it('mongodump without the binary fails without retry, naming what it looked for, where, and tool: driver', () => {
    const error = thrown(() => chooseTool({ choice: 'mongodump', binary: 'mongorestore', path: PATH, executable: none }));
    expect(error).toMatchObject({ code: 'unsupported', retryable: false });
    expect(error.message).toContain('no executable mongorestore is on its PATH');
    expect(error.message).toContain('/opt/mongodb-database-tools/bin');
    expect(error.message).toContain('or use tool: driver');
  });

  it('consistency: snapshot is the driver under auto and refused under mongodump, binary or not', () => {
    expect(chooseTool({ choice: 'auto', binary: 'mongodump', path: PATH, snapshot: true, executable: withBinaries })).toEqual({
      tool: 'driver',
      why: 'consistency: snapshot needs the driver',
    });
    const error = thrown(() => chooseTool({ choice: 'mongodump', binary: 'mongodump', path: PATH, snapshot: true, executable: withBinaries }));
    expect(error).toMatchObject({ code: 'unsupported', retryable: false });
    expect(error.message).toContain('consistency: snapshot cannot be done with tool: mongodump');
    expect(error.message).toContain('Use tool: driver');
  });

  it('keeps the first line of --version for the manifest', () => {
    expect(versionLine('mongodump version: 100.9.4\ngit version: 3bd5f6a\nGo version: go1.21.6\n')).toBe('mongodump version: 100.9.4');
    expect(versionLine('\n')).toBe('unknown');
  });
});

describe('the connection string, only in a --config file', () => {
  it('moves a database in the path to authSource, since the tools would take it as --db', () => {
    expect(toolUri('mongodb://u:p%40ss@db1:27017,db2:27017/app?replicaSet=rs0')).toBe('mongodb://u:p%40ss@db1:27017,db2:27017/?replicaSet=rs0&authSource=app');
    expect(toolUri('mongodb://u:p@db1/app?authSource=admin&tls=true')).toBe('mongodb://u:p@db1/?authSource=admin&tls=true');
    expect(toolUri('mongodb+srv://u:p@cluster0.example.net/app')).toBe('mongodb+srv://u:p@cluster0.example.net/?authSource=app');
    expect(toolUri('mongodb://db1:27017/app')).toBe('mongodb://db1:27017/');
    expect(toolUri('mongodb://u:p@db1')).toBe('mongodb://u:p@db1/');
    expect(() => toolUri('postgres://u:p@db1/app')).toThrow(/not a mongodb/);
  });

  it('writes YAML that parses back to exactly that string, password included', () => {
    for (const url of ['mongodb://rebound:s3cr%22t%5C%3A@127.0.0.1:27017/app?authSource=admin', 'mongodb://rebound:a"b\\c #d: e@127.0.0.1/?tls=true']) {
      expect(parse(configYaml(url))).toEqual({ uri: toolUri(url) });
      expect(toolUri(url)).toContain(url.slice(10, 25));
    }
    expect(() => configYaml('mongodb://u:p@db1/\nuri: x')).toThrow(ActionError);
  });

  it('keeps it out of every argument', () => {
    const runs = dumpRuns([{ db: 'app', selected: ['orders'], others: [] }], { config: '/tmp/x/config.yaml', out: '/tmp/x/dump', parallel: 2 });
    const args = [...runs.flat(), ...restoreArgs({ config: '/tmp/x/config.yaml', dir: '/tmp/x/dump', drop: true, include: ['app.*'], parallel: 2 })];
    expect(args.filter((a) => /mongodb|s3cr|uri|password/i.test(a))).toEqual([]);
  });
});

describe('mongodump runs and the files they leave', () => {
  it('runs once per database with selected collections, excluding the others by name', () => {
    const runs = dumpRuns(
      [
        { db: 'app', selected: ['orders', 'with.dots'], others: ['audit', '-odd', 'system.views'] },
        { db: 'empty', selected: [], others: ['x'] },
        { db: 'shop', selected: ['carts'], others: [] },
      ],
      { config: '/t/config.yaml', out: '/t/dump', parallel: 4 },
    );
    expect(runs).toEqual([
      [
        '--config=/t/config.yaml',
        '--gzip',
        '--out=/t/dump',
        '--db=app',
        '--numParallelCollections=4',
        '--excludeCollection=audit',
        '--excludeCollection=-odd',
        '--excludeCollection=system.views',
      ],
      ['--config=/t/config.yaml', '--gzip', '--out=/t/dump', '--db=shop', '--numParallelCollections=4'],
    ]);
  });

  it('uploads both files of each selected collection and nothing else', () => {
    const found = [
      'app/orders.bson.gz',
      'app/orders.metadata.json.gz',
      'app/with.dots.bson.gz',
      'app/with.dots.metadata.json.gz',
      'app/prelude.json.gz',
      'app/created-meanwhile.bson.gz',
      'app/created-meanwhile.metadata.json.gz',
      'app/system.buckets.weather.bson.gz',
      'app/weather.metadata.json.gz',
      'app/open.metadata.json.gz',
    ];
    const selected = ['orders', 'with.dots', 'weather', 'open'].map((collection) => ({ db: 'app', collection }));
    expect(pointFiles(found, selected)).toEqual([
      'app/open.metadata.json.gz',
      'app/orders.bson.gz',
      'app/orders.metadata.json.gz',
      'app/system.buckets.weather.bson.gz',
      'app/weather.metadata.json.gz',
      'app/with.dots.bson.gz',
      'app/with.dots.metadata.json.gz',
    ]);
  });
});

describe('mongorestore', () => {
  it('passes drop, include, the rename map and parallel', () => {
    expect(
      restoreArgs({
        config: '/t/c.yaml',
        dir: '/t/dump',
        drop: true,
        include: ['app.*', '*.audit'],
        namespace: { from: 'app.*', to: 'rt_app.*' },
        parallel: 3,
      }),
    ).toEqual([
      '--config=/t/c.yaml',
      '--gzip',
      '--dir=/t/dump',
      '--numParallelCollections=3',
      '--drop',
      '--nsInclude=app.*',
      '--nsInclude=*.audit',
      '--nsFrom=app.*',
      '--nsTo=rt_app.*',
    ]);
    expect(restoreArgs({ config: 'c', dir: 'd', drop: false, include: [], parallel: 1 })).toEqual([
      '--config=c',
      '--gzip',
      '--dir=d',
      '--numParallelCollections=1',
    ]);
  });

  it("reads its closing line's counts", () => {
    const stderr = [
      '2026-01-01T00:00:00.000+0000\tfinished restoring app.orders (2000 documents, 3 failures)',
      '2026-01-01T00:00:00.001+0000\t2014 document(s) restored successfully. 3 document(s) failed to restore.',
    ].join('\n');
    expect(restoreSummary(stderr)).toEqual({ restored: 2014, failed: 3 });
    expect(restoreSummary('Failed: error connecting to host')).toBeUndefined();
  });

  it('writes downloaded objects only inside its folder', () => {
    expect(localFile('/t/dump', 'app/with.dots.bson.gz')).toBe('/t/dump/app/with.dots.bson.gz');
    for (const name of ['../x.bson.gz', 'app/../../etc/passwd', '/etc/passwd', 'app/sub/x.bson.gz', 'app/..', 'x.bson.gz', 'app\\..\\x/y']) {
      expect(() => localFile('/t/dump', name), name).toThrow(/not <database>\/<file>/);
    }
  });
});

describe('failures of the binaries', () => {
  // As mongo-tools prints them.
  const auth =
    'Failed: can\'t create session: failed to connect to mongodb://127.0.0.1:27017/: connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism "SCRAM-SHA-256": (AuthenticationFailed) Authentication failed.';
  const refused =
    "Failed: can't create session: failed to connect to mongodb://127.0.0.1:27017/: server selection error: context deadline exceeded, current topology: { Type: Unknown, Servers: [{ Addr: 127.0.0.1:27017, Type: Unknown, Last error: dial tcp 127.0.0.1:27017: connect: connection refused }, ] }";
  const usage = 'error parsing command line options: unknown option "nsInclude"';

  it('a refused login and bad arguments are not retried; connection trouble is', () => {
    expect(isAuthFailure(auth)).toBe(true);
    expect(retryableToolFailure(auth)).toBe(false);
    expect(retryableToolFailure(usage)).toBe(false);
    expect(retryableToolFailure('Failed: error parsing config file /t/config.yaml: yaml: line 1')).toBe(false);
    expect(isAuthFailure(refused)).toBe(false);
    expect(retryableToolFailure(refused)).toBe(true);
  });
});
