// SaslHandshake and SaslAuthenticate: PLAIN (user = principal name, password = token, checked by
// the same Authenticator as the WebSocket port: SHA-256 of the token, constant-time match) and
// SCRAM-SHA-256 (the credential `seglog auth add/rotate` stores next to the token hash). A failure
// answers SASL_AUTHENTICATION_FAILED after the failed-authentication delay, counts against the
// peer's address (AuthFailureLimiter: past its limit the address's connections are refused at
// accept), and closes the connection after the answer, as a Kafka broker does.
import { AuthenticationFailedError } from '../../../../engine/index.js';
import { ScramServer } from '../../auth/scram.js';
import { KAFKA_SASL_MESSAGE_MAX_BYTES } from '../../limits.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError } from '../errors.js';
import { SASL_MECHANISMS, type KafkaPeer, type SaslMechanism } from '../peer.js';

const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;

export function saslHandshake(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const offered = ctx.security.authenticator === null ? [] : [...SASL_MECHANISMS];
  const mechanism = req['mechanism'] as string;
  if (!offered.includes(mechanism as SaslMechanism)) return { errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms: offered };
  if (info.peer.principal !== null || info.peer.mechanism !== null) return { errorCode: ILLEGAL_SASL_STATE, mechanisms: offered };
  info.peer.mechanism = mechanism as SaslMechanism;
  return { errorCode: KafkaError.NONE, mechanisms: offered };
}

export async function saslAuthenticate(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const peer = info.peer;
  const authenticator = ctx.security.authenticator;
  if (authenticator === null || peer.mechanism === null || peer.principal !== null) {
    return { errorCode: ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate needs a SaslHandshake first (and an auth file on the server)', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
  }
  const bytes = (req['authBytes'] as Buffer | null) ?? Buffer.alloc(0);
  try {
    if (bytes.length > KAFKA_SASL_MESSAGE_MAX_BYTES) throw new AuthenticationFailedError('SASL message too long');
    if (peer.mechanism === 'PLAIN') {
      plain(ctx, peer, bytes);
      return success(Buffer.alloc(0));
    }
    if (peer.scram === null) {
      const scram = new ScramServer();
      const serverFirst = scram.first(bytes.toString('utf8'), (user) => authenticator.principalNamed(user)?.scramSha256 ?? null);
      peer.scram = scram;
      return success(Buffer.from(serverFirst));
    }
    const scram = peer.scram;
    peer.scram = null;
    const serverFinal = scram.final(bytes.toString('utf8'));
    const principal = authenticator.principalNamed(scram.user)!;
    peer.authenticated = { principal, tokenHash: null };
    peer.principal = principal;
    return success(Buffer.from(serverFinal));
  } catch (e) {
    ctx.metrics.authFailures.inc({ reason: 'invalid' });
    // Never the password: the peer, the mechanism and what was wrong.
    ctx.security.refusalLog.line(`authentication failed for kafka connection ${peer.remote} (SASL ${peer.mechanism}): ${(e as Error).message}`);
    const delayMs = ctx.security.failures.failed(peer.address);
    await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    peer.failed = true;
    return { errorCode: KafkaError.SASL_AUTHENTICATION_FAILED, errorMessage: `authentication failed (SASL ${peer.mechanism})`, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
  }
}

function success(authBytes: Buffer): Struct {
  return { errorCode: KafkaError.NONE, errorMessage: null, authBytes, sessionLifetimeMs: 0 };
}

/** RFC 4616: [authzid] NUL authcid NUL passwd; the authzid, when given, must be the same principal. */
function plain(ctx: KafkaContext, peer: KafkaPeer, bytes: Buffer): void {
  const parts = bytes.toString('utf8').split('\u0000');
  if (parts.length !== 3) throw new AuthenticationFailedError('malformed PLAIN message');
  const [authzid, user, password] = parts as [string, string, string];
  const a = ctx.security.authenticator!.authenticate({ token: password });
  if (a.principal.name !== user || (authzid !== '' && authzid !== user)) throw new AuthenticationFailedError(`the token does not belong to ${JSON.stringify(user)}`);
  peer.authenticated = a;
  peer.principal = a.principal;
}
