import { createHash, randomUUID } from 'node:crypto';
import type { Envelope } from '../contract/envelope';
import { encodeEnvelope } from '../contract/envelope-codec';
import { isStoredConnection } from '../contract/connection';
import { describeIssues, problem } from '../contract/problems';
import { originOf, syncRequestSchema, type SyncLimits, type SyncRequest } from '../contract/sync-request';
import {
  IdempotencyConflictError,
  isSecretUnreadableError,
  PayloadTooLargeError,
  type SecretUnreadableError,
  ValidationError,
} from './errors';
import type { MessageStates } from './message-states';
import type { Appended, Logger, SecretStore, StoredSecret, StreamStore } from './ports';
import type { TargetPolicy } from './target-policy';

export interface PopulateLimits extends SyncLimits {
  maxBatch: number;
  maxMessageBytes: number;
}

export interface PopulateDeps {
  stream: StreamStore;
  states: Pick<MessageStates, 'findIngest' | 'rememberIngest'>;
  secrets: SecretStore;
  mainStream: string;
  limits: PopulateLimits;
  targetPolicy: TargetPolicy;
  log: Logger;
}

export interface PopulateInput {
  body: unknown;
  /** The caller's Authorization header: the credential for the targets, kept in the secret store. */
  authorization?: string;
  /** The caller's `Idempotency-Key` header: a repeat answers the first answer and enqueues nothing. */
  idempotencyKey?: string;
}

export interface Populated {
  appended: Appended[];
  /** The answer of an earlier request with the same `Idempotency-Key`; nothing new was enqueued. */
  repeated: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Ingest: validate everything, store the credential, append every message. All or nothing: a
 * rejected request stores and enqueues nothing.
 */
export async function populate(deps: PopulateDeps, input: PopulateInput): Promise<Populated> {
  const key = input.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError([
      problem(['headers', 'idempotency-key'], 'must be 1-255 visible ASCII characters'),
    ]);
  }
  const { requests, wrapped } = validateShape(deps.limits, input.body);
  if (requests.length === 0) return { appended: [], repeated: false };
  const fingerprint =
    key === undefined ? '' : createHash('sha256').update(JSON.stringify(requests)).digest('hex');
  if (key !== undefined) {
    const earlier = await deps.states.findIngest(key);
    if (earlier && earlier.fingerprint !== fingerprint) throw new IdempotencyConflictError(key);
    if (earlier) return { appended: earlier.appended, repeated: true };
  }
  const prefix = (index: number) => (wrapped ? [index] : []);

  const problems: string[] = [];
  requests.forEach((request, index) => {
    const reason = deps.targetPolicy.refusalForUrl(request.streamMessage.targetRestApi);
    if (reason) problems.push(problem([...prefix(index), 'streamMessage', 'targetRestApi'], reason));
  });
  if (problems.length > 0) throw new ValidationError(problems);
  // Only a request valid in every other way may look up secret names, so refused ones leave no trace.
  const credentials = await checkCredentials(deps.secrets, requests, input.authorization, prefix);
  if (credentials.problems.length > 0) throw new ValidationError(credentials.problems);

  const envelopes: Envelope[] = requests.map((request, index) => ({
    id: key === undefined ? randomUUID() : idFor(key, index),
    streamKey: request.streamKey ?? '',
    streamMessage: request.streamMessage,
    attempt: 0,
  }));
  const tooLarge = envelopes.flatMap((envelope, index) => {
    const bytes = Buffer.byteLength(encodeEnvelope(envelope));
    return bytes > deps.limits.maxMessageBytes
      ? [
          problem(
            prefix(index),
            `message is ${bytes} bytes stored; the limit is ${deps.limits.maxMessageBytes}`,
          ),
        ]
      : [];
  });
  if (tooLarge.length > 0) throw new PayloadTooLargeError(tooLarge);

  for (const [name, origin] of credentials.toStore) {
    await deps.secrets.put(name, { value: input.authorization as string, origin });
  }
  const appended = await deps.stream.append(deps.mainStream, envelopes);
  if (key !== undefined) await deps.states.rememberIngest(key, { fingerprint, appended });
  deps.log.info('sync.accepted', { stream: deps.mainStream, count: appended.length });
  return { appended, repeated: false };
}

/**
 * Message ids derived from the `Idempotency-Key`: should the process die between the append and
 * remembering the key, the repeat appends the same ids, which the message states (and Service Bus
 * duplicate detection) count once.
 */
function idFor(key: string, index: number): string {
  const hex = createHash('sha256').update(`${key}\n${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function validateShape(limits: PopulateLimits, body: unknown): { requests: SyncRequest[]; wrapped: boolean } {
  const wrapped = Array.isArray(body);
  const items: unknown[] = wrapped ? (body as unknown[]) : [body];
  if (items.length > limits.maxBatch) {
    throw new PayloadTooLargeError([
      `a batch may hold at most ${limits.maxBatch} messages, got ${items.length}`,
    ]);
  }
  const schema = syncRequestSchema(limits);
  const problems: string[] = [];
  const requests: SyncRequest[] = [];
  items.forEach((item, index) => {
    const result = schema.safeParse(item);
    if (result.success) requests.push(result.data);
    else problems.push(...describeIssues(result.error.issues, wrapped ? [index] : []));
  });
  if (problems.length > 0) throw new ValidationError(problems);
  return { requests, wrapped };
}

/**
 * A stored credential or connection is bound to one origin. A request that brings a credential
 * (re)binds each secret name it uses, unless the name is a connection; one that does not may only use
 * a name already bound to the same origin.
 */
async function checkCredentials(
  secrets: SecretStore,
  requests: SyncRequest[],
  authorization: string | undefined,
  prefix: (index: number) => PropertyKey[],
): Promise<{ problems: string[]; toStore: Map<string, string> }> {
  const problems: string[] = [];
  const toStore = new Map<string, string>();
  const named = requests.filter((request) => request.streamMessage.vaultSecretName !== undefined);
  if (authorization !== undefined && authorization.trim() === '') {
    return {
      problems: [
        problem(
          ['headers', 'authorization'],
          'is empty; send the credential, or leave the header out to use the one stored',
        ),
      ],
      toStore,
    };
  }
  if (authorization !== undefined && named.length === 0) {
    problems.push(
      problem(
        ['headers', 'authorization'],
        'is given but no message names a vaultSecretName to keep it under',
      ),
    );
  }
  const lookups = new Map<string, Promise<StoredSecret | SecretUnreadableError | undefined>>();
  const read = (name: string) => {
    let lookup = lookups.get(name);
    if (!lookup) {
      lookup = secrets.get(name).catch((error: unknown) => {
        if (isSecretUnreadableError(error)) return error;
        throw error;
      });
      lookups.set(name, lookup);
    }
    return lookup;
  };
  if (authorization !== undefined && isStoredConnection(authorization)) {
    problems.push(problem(['headers', 'authorization'], 'is not a credential a target accepts'));
  }
  for (const [index, request] of requests.entries()) {
    const name = request.streamMessage.vaultSecretName;
    if (name === undefined) continue;
    const at = [...prefix(index), 'streamMessage', 'vaultSecretName'];
    const origin = originOf(request.streamMessage.targetRestApi);
    const stored = await read(name);
    if (authorization !== undefined) {
      // A connection is managed through /api/connections; a message's header does not replace it.
      if (stored && !(stored instanceof Error) && isStoredConnection(stored.value)) {
        problems.push(
          problem(at, `"${name}" names a connection; send the message without an Authorization header`),
        );
      }
      const bound = toStore.get(name);
      if (bound !== undefined && bound !== origin) {
        problems.push(
          problem(at, `"${name}" is used for ${bound} and ${origin}; a credential is bound to one origin`),
        );
      }
      toStore.set(name, bound ?? origin);
      continue;
    }
    if (stored instanceof Error) {
      problems.push(
        problem(
          at,
          `the credential stored under "${name}" cannot be decrypted; send it again in the Authorization header`,
        ),
      );
    } else if (!stored) {
      problems.push(
        problem(
          at,
          `no credential or connection is stored under "${name}"; send the credential in the Authorization header or PUT /api/connections/${name}`,
        ),
      );
    } else if (stored.origin !== origin) {
      problems.push(problem(at, `"${name}" is bound to ${stored.origin}, not ${origin}`));
    }
  }
  return { problems, toStore };
}
