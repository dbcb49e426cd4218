// pgBackRest's private config: a value that would start a line of its own (an injected option such as cmd-ssh) is refused, never written.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ActionError } from '../runtime/errors.ts';
import { privateConfig, type Stanza } from './command.ts';

const stanza = (path: string, socket = '/run/postgresql'): Stanza => ({
  stanza: 'main',
  repository: { type: 'posix', path, s3_region: 'us-east-1', s3_uri_style: 'host', encrypted: false },
  credentials: {},
  cluster: { data_dir: '/var/lib/postgresql/15/main', port: 5432, socket_dir: socket, user: 'postgres' },
});

const folders = () => readdirSync(tmpdir()).filter((n) => n.startsWith('rebound-pgbackrest-'));

describe('pgBackRest config', () => {
  it('refuses a value with a line break or NUL (an injected option), naming the field, and leaves no folder', () => {
    const before = folders();
    for (const bad of [stanza('/var/lib/pgbackrest\nrepo1-host=evil\ncmd-ssh=/tmp/x'), stanza('/ok', '/run\r[global]'), stanza('/a\0b')]) {
      let error: unknown;
      try {
        privateConfig(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ActionError);
      expect((error as ActionError).code).toBe('invalid_input');
      expect((error as ActionError).message).toMatch(/^pgBackRest setting (repo1-path|pg1-socket-path) holds a line break or NUL/);
    }
    expect(folders()).toEqual(before);
  });

  it('writes plain values as they are', () => {
    const config = privateConfig(stanza('/var/lib/pgbackrest'));
    config.remove();
  });
});
