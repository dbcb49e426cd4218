// How an action reaches an Elasticsearch/OpenSearch cluster: a node URL and basic auth (the search actions' fields and prune's `search:` block).
import { z } from 'zod';

/** Where the cluster is and how to log in: basic auth from the URL's userinfo or from `username` + `password`. */
export const searchConnection = {
  cluster: z.string().url().describe('http(s)://[user:password@]host:port of a node, from a secret when it carries a password'),
  username: z.string().optional().describe('basic auth user, when the URL has none'),
  password: z.string().optional().describe('basic auth password, from a secret'),
};

/** The connection fields that carry credentials. */
export const SEARCH_CONNECTION_SECRETS = ['cluster', 'password'];
