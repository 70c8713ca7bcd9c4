import {
  connectionNameSchema,
  connectionSchema,
  decodeConnection,
  encodeConnection,
  publicConnection,
  type Connection,
} from '../contract/connection';
import { describeIssues, problem } from '../contract/problems';
import { isSecretUnreadableError, ValidationError } from './errors';
import type { Logger, SecretStore } from './ports';
import type { TargetPolicy } from './target-policy';

export interface ConnectionDeps {
  secrets: SecretStore;
  targetPolicy: TargetPolicy;
  /** 127 less the prefix the secret store adds. */
  maxName: number;
  log: Logger;
}

export type PublicConnection = ReturnType<typeof publicConnection>;

/**
 * `PUT /api/connections/{name}`: validates everything (shape, then the target policy for the origin
 * and the token endpoint) and stores the connection as one secret bound to its origin. Replaces a
 * connection or a stored credential of the same name.
 */
export async function putConnection(
  deps: ConnectionDeps,
  name: string,
  body: unknown,
): Promise<{ created: boolean; connection: PublicConnection }> {
  const problems = nameProblems(deps, name);
  const parsed = connectionSchema.safeParse(body);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues));
  problems.push(...policyProblems(deps.targetPolicy, body));
  if (problems.length > 0 || !parsed.success) throw new ValidationError(problems);
  const connection = parsed.data;
  const created = (await deps.secrets.get(name).catch(unreadableAsAbsent)) === undefined;
  await deps.secrets.put(name, { value: encodeConnection(connection), origin: connection.origin });
  deps.log.info('connection.stored', {
    name,
    origin: connection.origin,
    auth: connection.auth.type,
    created,
  });
  return { created, connection: publicConnection(name, connection) };
}

/** The connection without its secrets; undefined when no connection has this name. */
export async function readConnection(
  deps: ConnectionDeps,
  name: string,
): Promise<PublicConnection | undefined> {
  const connection = await find(deps, name);
  return connection && publicConnection(name, connection);
}

/** Removes the connection; false when no connection has this name (a stored credential is left alone). */
export async function deleteConnection(deps: ConnectionDeps, name: string): Promise<boolean> {
  if (!(await find(deps, name))) return false;
  const deleted = await deps.secrets.delete(name);
  if (deleted) deps.log.info('connection.deleted', { name });
  return deleted;
}

async function find(deps: ConnectionDeps, name: string): Promise<Connection | undefined> {
  const problems = nameProblems(deps, name);
  if (problems.length > 0) throw new ValidationError(problems);
  const stored = await deps.secrets.get(name).catch(unreadableAsAbsent);
  return stored && decodeConnection(stored.value, stored.origin);
}

function nameProblems(deps: ConnectionDeps, name: string): string[] {
  const parsed = connectionNameSchema
    .max(deps.maxName, `must be at most ${deps.maxName} characters`)
    .safeParse(name);
  return parsed.success ? [] : describeIssues(parsed.error.issues, ['name']);
}

/** The allow-list and the address rules, for the origin and the token endpoint, judged at PUT time. */
function policyProblems(policy: TargetPolicy, body: unknown): string[] {
  const raw = body as { origin?: unknown; auth?: { tokenUrl?: unknown } } | null;
  const urls: Array<[PropertyKey[], unknown]> = [
    [['origin'], raw?.origin],
    [['auth', 'tokenUrl'], raw?.auth?.tokenUrl],
  ];
  return urls.flatMap(([path, url]) => {
    if (typeof url !== 'string' || !URL.canParse(url)) return [];
    const refusal = policy.refusalForUrl(url);
    return refusal ? [problem(path, refusal)] : [];
  });
}

/** A secret the current key cannot open is replaced by a PUT and is no connection to read. */
function unreadableAsAbsent(error: unknown): undefined {
  if (isSecretUnreadableError(error)) return undefined;
  throw error;
}
