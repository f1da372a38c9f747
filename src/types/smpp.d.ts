// The smpp package ships no types; this is the part of its API Verigate uses.
declare module "smpp" {
  import type { EventEmitter } from "node:events";
  import type { Server as NetServer } from "node:net";

  export interface PDU {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    response(fields?: Record<string, unknown>): PDU;
  }

  export interface Session extends EventEmitter {
    send(pdu: PDU, callback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(fields: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    submit_sm(fields: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    deliver_sm(fields: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    enquire_link(fields?: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    unbind(fields?: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    socket: import("node:net").Socket;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { url: string; auto_enquire_link_period?: number; connectTimeout?: number }, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;
  export const ESME_ROK: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RSYSERR: number;
  export const ESME_RINVPASWD: number;
}
