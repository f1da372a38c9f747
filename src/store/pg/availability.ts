import { VerifyError } from "../../domain/errors.js";

// Socket failures while connecting or talking to the server.
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
// SQLSTATEs of a server that is going away, coming back or full: class 08 (connection exception),
// 57P01 admin_shutdown (also pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const SERVER_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);
// node-postgres says these in words only: a connection that died under a client, or a pool that could not connect in time.
const LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** Did this error come from PostgreSQL being unreachable (rather than from the query or from us)? */
export function isConnectionLoss(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08"))) return true;
    if (LOST.test(e.message)) return true;
  }
  return false;
}

/**
 * The store as the domain sees it while PostgreSQL blinks: a call that failed because the database was
 * unreachable rejects with SERVICE_UNAVAILABLE (a stable code for clients, a retryable fault for workers)
 * instead of a driver error; the pool reconnects by itself on the next call. Applied once at the
 * boundary, so no store method has to think about it.
 */
export function reportingUnavailable<T extends object>(store: T, onLoss: (error: unknown) => void): T {
  const translate = (error: unknown): never => {
    if (!isConnectionLoss(error)) throw error;
    onLoss(error);
    throw new VerifyError("SERVICE_UNAVAILABLE", "The service is temporarily unavailable: its database cannot be reached. Retry later.");
  };
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      let method = wrapped.get(key);
      if (!method) {
        method = (...args: unknown[]) => {
          const result: unknown = value.apply(target, args);
          return result instanceof Promise ? result.catch(translate) : result;
        };
        wrapped.set(key, method);
      }
      return method;
    },
  });
}
