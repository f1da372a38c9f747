import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import { factorEvents, factorMachine } from "../../domain/factor/machine.js";
import { factorFields, publicFactor } from "../../domain/factor/projections.js";
import type { Entity, Factor, FactorType, Page, PasskeyCredential, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { AttemptClaim, EntityRecord, FactorFailure, FactorPatch, FactorRecord, NewFactor, PageRequest } from "../port.js";
import { type FactorRow, pageOf, toFactorRecord } from "../rows.js";
import { type Q, all, get, run } from "./ops.js";
import { record } from "./record.js";

/** A claimed attempt given back (a right answer is no failure), never below zero. */
export const oneBack = (column: unknown) => sql<number>`case when ${column} > 0 then ${column} - 1 else 0 end`;

/** The factor with its entity's user handle (what an authenticator names the user by). */
function* factorRecord({ db, t }: Q, row: FactorRow): Step<FactorRecord> {
  const entity = yield* get(db.select({ userHandle: t.entities.userHandle }).from(t.entities).where(eq(t.entities.sid, row.entitySid)));
  return toFactorRecord(row, entity?.userHandle ?? "");
}

function* factorRecords(q: Q, rows: FactorRow[]): Step<FactorRecord[]> {
  const records: FactorRecord[] = [];
  for (const row of rows) records.push(yield* factorRecord(q, row));
  return records;
}

function toEntity(row: { sid: string; serviceSid: string; identity: string; userHandle: string; dateCreated: number }): EntityRecord {
  return { sid: row.sid, serviceSid: row.serviceSid, identity: row.identity, userHandle: row.userHandle, dateCreated: row.dateCreated };
}

/** Entities and factors (TOTP seeds, push device keys, passkeys): written once for both dialects. */
export const factors = {
  /** The entity, created if missing; one deleted between the insert and the read is created again. */
  *ensureEntity({ db, t }: Q, entity: Entity, now: number): Step<Entity> {
    const e = t.entities;
    for (;;) {
      yield* run(
        db
          .insert(e)
          .values({ ...entity, dateCreated: now })
          .onConflictDoNothing(),
      );
      const row = yield* get(
        db
          .select()
          .from(e)
          .where(and(eq(e.serviceSid, entity.serviceSid), eq(e.identity, entity.identity))),
      );
      if (row) return { sid: row.sid, serviceSid: row.serviceSid, identity: row.identity, userHandle: row.userHandle };
    }
  },

  *getEntity({ db, t }: Q, serviceSid: string, identity: string): Step<EntityRecord | null> {
    const e = t.entities;
    const row = yield* get(
      db
        .select()
        .from(e)
        .where(and(eq(e.serviceSid, serviceSid), eq(e.identity, identity))),
    );
    return row ? toEntity(row) : null;
  },

  /** A service's entities, oldest first. */
  *listEntities({ db, t }: Q, serviceSid: string, page: PageRequest): Step<Page<EntityRecord>> {
    const e = t.entities;
    const rows = yield* all(
      db
        .select()
        .from(e)
        .where(and(eq(e.serviceSid, serviceSid), gt(e.seq, decodeCursor(page.after))))
        .orderBy(asc(e.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toEntity);
  },

  /** An identity's factors, oldest first. */
  *listOfEntity(q: Q, serviceSid: string, identity: string, page: PageRequest): Step<Page<FactorRecord>> {
    const f = q.t.factors;
    const rows = yield* all(
      q.db
        .select()
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), gt(f.seq, decodeCursor(page.after))))
        .orderBy(asc(f.seq))
        .limit(page.first + 1),
    );
    const records = yield* factorRecords(q, rows);
    const kept = rows.slice(0, page.first);
    const edges = kept.map((row, i) => ({ cursor: encodeCursor(row.seq), node: records[i] }));
    return { edges, hasNextPage: rows.length > page.first, endCursor: edges.at(-1)?.cursor ?? null };
  },

  /** Deletes an identity's entity and every factor of it (one event per factor); false when there was none. */
  *deleteEntity(q: Q, serviceSid: string, identity: string, now: number): Step<boolean> {
    const f = q.t.factors;
    const e = q.t.entities;
    // The entity first, as a factor's creation locks it: the factors read below are all there are.
    yield* get(
      q.db
        .select({ sid: e.sid })
        .from(e)
        .where(and(eq(e.serviceSid, serviceSid), eq(e.identity, identity))),
      {},
    );
    const owned = yield* all(
      q.db
        .select({ sid: f.sid })
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity))),
    );
    for (const { sid } of owned) yield* factors.delete(q, sid, now);
    const row = yield* get(
      q.db
        .delete(e)
        .where(and(eq(e.serviceSid, serviceSid), eq(e.identity, identity)))
        .returning(),
    );
    return row !== undefined && row !== null;
  },

  /**
   * A new factor of an existing entity; null when the entity was deleted since it was ensured. The
   * entity's row is locked first (PostgreSQL), as deleteEntity locks it: a factor is never left behind
   * by the deletion of its entity.
   */
  *create({ db, t }: Q, factor: NewFactor): Step<VerifyEvent | null> {
    const entity = yield* get(db.select({ sid: t.entities.sid }).from(t.entities).where(eq(t.entities.sid, factor.entitySid)), {});
    if (!entity) return null;
    const { metadata, secretSealed, config, ...columns } = factor;
    yield* run(db.insert(t.factors).values({ ...columns, secret: secretSealed, config: config ? JSON.stringify(config) : null, metadata: metadata ? JSON.stringify(metadata) : null }));
    return yield* record(factorEvents.created(factorFields(factor)));
  },

  *get(q: Q, sid: string): Step<FactorRecord | null> {
    const row = yield* get(q.db.select().from(q.t.factors).where(eq(q.t.factors.sid, sid)));
    return row ? yield* factorRecord(q, row) : null;
  },

  *listPasskeys(q: Q, serviceSid: string, identity: string): Step<FactorRecord[]> {
    const f = q.t.factors;
    const rows = yield* all(
      q.db
        .select()
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, "PASSKEY"), eq(f.status, factorMachine.usable)))
        .orderBy(asc(f.seq)),
    );
    return yield* factorRecords(q, rows);
  },

  *findPasskey(q: Q, serviceSid: string, credentialId: string): Step<FactorRecord | null> {
    const f = q.t.factors;
    const row = yield* get(
      q.db
        .select()
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.credentialId, credentialId), eq(f.status, factorMachine.usable))),
    );
    return row ? yield* factorRecord(q, row) : null;
  },

  /** The unverified passkey whose registration ceremony has this challenge (Twilio's VerifyFactor names no factor). */
  *findByPendingChallenge(q: Q, serviceSid: string, challenge: string): Step<FactorRecord | null> {
    const f = q.t.factors;
    const row = yield* get(
      q.db
        .select()
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.pendingChallenge, challenge))),
    );
    return row ? yield* factorRecord(q, row) : null;
  },

  *newestVerified(q: Q, serviceSid: string, identity: string, factorType: FactorType): Step<FactorRecord | null> {
    const f = q.t.factors;
    const row = yield* get(
      q.db
        .select()
        .from(f)
        .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, factorType), eq(f.status, factorMachine.usable)))
        .orderBy(desc(f.seq))
        .limit(1),
    );
    return row ? yield* factorRecord(q, row) : null;
  },

  /** One conditional write (concurrent claims queue on the row and re-check it; no read-then-write). */
  *claimVerification(q: Q, claim: AttemptClaim): Step<{ claimed: true; factor: FactorRecord } | { claimed: false; factor: FactorRecord | null }> {
    const f = q.t.factors;
    const row = yield* get(
      q.db
        .update(f)
        .set({ failedAttempts: sql`${f.failedAttempts} + 1`, dateUpdated: claim.now })
        .where(and(eq(f.sid, claim.sid), eq(f.status, claim.status), lt(f.failedAttempts, claim.cap)))
        .returning(),
    );
    if (row) return { claimed: true, factor: yield* factorRecord(q, row) };
    const current = yield* get(q.db.select().from(f).where(eq(f.sid, claim.sid)));
    return { claimed: false, factor: current ? yield* factorRecord(q, current) : null };
  },

  *verify(q: Q, sid: string, proof: { credential?: PasskeyCredential; counter?: number }, now: number): Step<{ factor: Factor; event: VerifyEvent } | null> {
    const f = q.t.factors;
    const { credential } = proof;
    const change = factorMachine.verified();
    // The claimed attempt is given back whether or not this answer was first: a right answer is no failure.
    yield* run(
      q.db
        .update(f)
        .set({ failedAttempts: oneBack(f.failedAttempts) })
        .where(eq(f.sid, sid)),
    );
    const row = yield* get(
      q.db
        .update(f)
        .set({
          status: change.to,
          ...(credential ? { credentialId: credential.credentialId, publicKey: credential.publicKey, counter: credential.counter, transports: JSON.stringify(credential.transports) } : {}),
          ...(proof.counter !== undefined ? { counter: proof.counter } : {}),
          pendingChallenge: null,
          dateUpdated: now,
        })
        .where(and(eq(f.sid, sid), eq(f.status, change.from)))
        .returning(),
    );
    if (!row) return null;
    const factor = publicFactor(yield* factorRecord(q, row));
    return { factor, event: yield* record(factorEvents.verified(factor, now)) };
  },

  *fail(q: Q, failure: FactorFailure): Step<VerifyEvent | null> {
    const row = yield* get(q.db.select().from(q.t.factors).where(eq(q.t.factors.sid, failure.sid)));
    if (!row) return null;
    const factor = publicFactor(yield* factorRecord(q, row));
    return yield* record(factorEvents.failed(failure.type, factor, failure.failedAttempts, failure.now));
  },

  /** A new name and/or config, with its event; conditional on the status when the domain asks (null: no row matched). */
  *update(q: Q, sid: string, patch: FactorPatch, now: number): Step<{ factor: Factor; event: VerifyEvent } | null> {
    const f = q.t.factors;
    const row = yield* get(
      q.db
        .update(f)
        .set({
          ...(patch.friendlyName !== undefined ? { friendlyName: patch.friendlyName } : {}),
          ...(patch.config !== undefined ? { config: JSON.stringify(patch.config) } : {}),
          dateUpdated: now,
        })
        .where(patch.whileStatus ? and(eq(f.sid, sid), eq(f.status, patch.whileStatus)) : eq(f.sid, sid))
        .returning(),
    );
    if (!row) return null;
    const factor = publicFactor(yield* factorRecord(q, row));
    return { factor, event: yield* record(factorEvents.updated(factor, patch.changed, now)) };
  },

  *delete(q: Q, sid: string, now: number): Step<{ factor: Factor; event: VerifyEvent } | null> {
    const row = yield* get(q.db.delete(q.t.factors).where(eq(q.t.factors.sid, sid)).returning());
    if (!row) return null;
    const factor = publicFactor(yield* factorRecord(q, row));
    return { factor, event: yield* record(factorEvents.deleted(factor, now)) };
  },
};
