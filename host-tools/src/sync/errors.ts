import { PrivateTracerError } from "../errors";

/**
 * The token did not authenticate, or refused to: its proof matches no
 * enrolled secret (another home's token, a token provisioned again since, a
 * token backing off after failed handshakes, which answers with a decoy), or
 * it answered the handshake with FAIL. Kind "invalid": a proof was checked
 * and failed.
 */
export class AuthFailedError extends PrivateTracerError {
  readonly code = "AUTH_FAILED";
  readonly kind = "invalid";
}

/**
 * The token's side of the session broke the protocol: a frame that fails its
 * check (garbled on the air, or not from the token that authenticated), a
 * response of the wrong type, a log chunk from the wrong place, or a token log
 * that no longer matches the copy kept for it. The session is over; what was
 * stored before it is kept.
 */
export class SyncProtocolError extends PrivateTracerError {
  readonly code = "SYNC_PROTOCOL";
  readonly kind = "unusable";
}
