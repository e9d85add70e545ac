/**
 * A login or registration half done on one connection: OPAQUE (RFC 9807) takes two requests, and
 * what the authority must keep between them lives here, on the connection, for at most
 * LIMITS.authExchangeMs. One at a time: a new start drops the one before. A dropped exchange
 * (expired, replaced, or its connection gone) keeps the throttle slot it held, so a login left
 * half-way counts as failed: the client learns whether its password was right from the first
 * reply alone, and a guess must cost an attempt whether or not its finish is ever sent.
 */
import type { OpaqueKsf } from '../../shared/protocol/index.js';
import type { Reservation } from './throttle.js';

interface Base {
  clientVersion: string;
  /** When the first half came: bans and kicks are judged as of then. */
  askedAt: number;
  /**
   * Called when the exchange is dropped unfinished. A client whose password does not open the
   * login response sends no finish (it cannot make one): that is how a wrong password ends, and
   * the authority logs it here.
   */
  onAbandoned?: () => void;
}

export type AuthExchange =
  /** registerStart answered: the name was free; registerFinish creates the account. */
  | (Base & { kind: 'register'; username: string; ksf: OpaqueKsf; slot: Reservation })
  /** loginStart answered with a response (a fake one for an unknown name: userId null). */
  | (Base & { kind: 'login'; key: string; username: string; userId: number | null; serverLoginState: string; slot: Reservation })
  /** loginStart answered `legacy`: legacyLogin checks the scrypt hash. */
  | (Base & { kind: 'legacy'; key: string; userId: number; slot: Reservation })
  /** The old password or the reset code was right: registerFinish stores the new record. */
  | (Base & { kind: 'migrate' | 'reset'; userId: number; ksf: OpaqueKsf; resetCodeHash?: string })
  /** A signed-in user's reauthStart: changePassword or deleteAccount finishes it. */
  | (Base & { kind: 'reauth'; userId: number; serverLoginState: string; newKsf: OpaqueKsf | null; slot: Reservation });

export type ExchangeKind = AuthExchange['kind'];

/** The exchange slot of a connection: begin, take (the finish), drop. */
export class ExchangeSlot {
  private current: { exchange: AuthExchange; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly ttlMs: number) {}

  /** Drops any exchange under way, then holds this one until taken or expired. */
  begin(exchange: AuthExchange): void {
    this.drop();
    const timer = setTimeout(() => this.drop(), this.ttlMs);
    timer.unref();
    this.current = { exchange, timer };
  }

  /**
   * The exchange under way when it is one of `kinds` (it is then no longer held: the caller
   * finishes it, or begins it again); null otherwise, and an exchange of another kind is dropped.
   */
  take<K extends ExchangeKind>(...kinds: K[]): Extract<AuthExchange, { kind: K }> | null {
    const held = this.current;
    if (!held) return null;
    if (!(kinds as ExchangeKind[]).includes(held.exchange.kind)) {
      this.drop();
      return null;
    }
    clearTimeout(held.timer);
    this.current = null;
    return held.exchange as Extract<AuthExchange, { kind: K }>;
  }

  /** Ends the exchange under way: a throttle slot it held counts as a failed attempt. */
  drop(): void {
    const held = this.current;
    if (!held) return;
    clearTimeout(held.timer);
    this.current = null;
    if ('slot' in held.exchange) held.exchange.slot.keep();
    held.exchange.onAbandoned?.();
  }

  get pending(): ExchangeKind | null {
    return this.current?.exchange.kind ?? null;
  }
}
