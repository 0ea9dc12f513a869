import { SECRET_KEY_BYTES, TOKEN_ID_BYTES } from "../../../firmware/src/wire/secrets";
import { PrivateTracerError, UserError } from "../errors";
import { Db, OpenOptions, Schema, isStorageFault, openDatabase, schemaVersion } from "./db";
import { MasterKey, SealedValueError, open, seal } from "./master-key";
import { DUMMY_HASH, PasswordHash, verifyPassword } from "./staff";
import type { EnrolmentStore } from "../provision/store";

/**
 * The kiosk's persistent store: the tokens it may sync (with their sync secrets
 * sealed under the master key), what each sync did, and the archive of log
 * segments read from the tokens. Every method is one transaction, so a kiosk
 * killed at any moment leaves the file as it was before or after a call.
 */

/** A token as enrolled: what `addToken` and `importTokens` take. */
export interface TokenEnrolment {
  /** 32 lower-case hex characters (the token's 16-byte id). */
  readonly tokenId: string;
  /** Shown to staff; at most 64 printable characters, may be empty. Stored trimmed. */
  readonly label: string;
  /** A board id, e.g. "puckjs". */
  readonly board: string;
  readonly syncSecret: Uint8Array;
  /** Unix seconds. */
  readonly enrolledAt: number;
}

/**
 * What a sync learnt about a token, column by column. A field left out or null
 * keeps what the last sync said: a session cut short still records the battery
 * it read without forgetting the risk level written the time before.
 */
export interface StatusUpdate {
  readonly lastSyncAt?: number | null;
  /** Percent. */
  readonly battery?: number | null;
  /** Token clock minus kiosk clock, seconds. */
  readonly clockDriftS?: number | null;
  readonly faults?: number | null;
  readonly boots?: number | null;
  /** 0 nothing found, 1 low, 2 high (ask staff). Given with riskReason and riskAt, or not at all. */
  readonly riskLevel?: number | null;
  /** The reason byte written with the level (0..255). */
  readonly riskReason?: number | null;
  /** Unix seconds: when the level was written to the token. */
  readonly riskAt?: number | null;
  /**
   * With the level: the exposure behind it, for the staff's advice ("on
   * Tuesday, for about 40 minutes"): the UTC day (YYYY-MM-DD) of the worst
   * day's exposure and its minutes rounded to 5. Null with a level when
   * nothing was found; a new level always replaces both.
   */
  readonly exposureDay?: string | null;
  readonly exposureMinutes?: number | null;
  /** The segment number the token acknowledged up to. */
  readonly ackedTo?: number | null;
}

/** A token without its secret: what lists and status pages show. Status fields are null until a sync reports them. */
export interface TokenRecord {
  readonly tokenId: string;
  readonly label: string;
  readonly board: string;
  readonly enrolledAt: number;
  readonly lastSyncAt: number | null;
  readonly battery: number | null;
  readonly clockDriftS: number | null;
  readonly faults: number | null;
  readonly boots: number | null;
  readonly riskLevel: number | null;
  readonly riskReason: number | null;
  readonly riskAt: number | null;
  readonly exposureDay: string | null;
  readonly exposureMinutes: number | null;
  readonly ackedTo: number | null;
}

/** What a sync round needs to authenticate a token and resume its log. */
export interface SyncTarget {
  readonly tokenId: string;
  readonly syncSecret: Uint8Array;
  readonly ackedTo: number | null;
}

export type SyncOutcome = "ok" | "link-lost" | "auth-failed" | "error";
const OUTCOMES: readonly SyncOutcome[] = ["ok", "link-lost", "auth-failed", "error"];

export interface ArchiveSegment {
  readonly seg: number;
  /** Unix day number of the segment's first record: what ageing out goes by. */
  readonly day: number;
  /** Sealed elsewhere, under a key the kiosk does not keep: opaque here. */
  readonly sealed: Uint8Array;
}

export interface StoredSegment extends ArchiveSegment {
  /** Unix seconds: when this copy was stored. */
  readonly storedAt: number;
}

export interface SyncRecord {
  readonly tokenId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: SyncOutcome;
  /** The message staff saw. */
  readonly detail: string;
  readonly segmentsRead: number;
  readonly bytesRead: number;
  readonly status?: StatusUpdate;
  /** Replaces any stored copy of the same segment: a segment read again is the newer, longer one. */
  readonly segments?: readonly ArchiveSegment[];
  /** Archived segments to delete (ones that no longer open); deleted before `segments` are stored, so a fresh copy stays. */
  readonly dropSegments?: readonly number[];
}

/**
 * A token's archive as one sync leaves it, committed before the token is told
 * its log is stored (the token may then free those segments).
 */
export interface ArchiveCommit {
  readonly tokenId: string;
  /** Replaces any stored copy of the same segment. */
  readonly segments: readonly ArchiveSegment[];
  /** Archived segments to delete (ones that no longer open); deleted before `segments` are stored. */
  readonly dropSegments: readonly number[];
  /** This token's segments whose day is before this unix day are aged out, fresh ones included. */
  readonly beforeDay: number;
  /** The segment the token's acknowledgement will end in. */
  readonly ackedTo: number;
}

export interface StoreOptions extends OpenOptions {
  /** Unix seconds now, for `storedAt` (default: the system clock). */
  readonly now?: () => number;
}

export interface HistoryEntry {
  readonly id: number;
  readonly tokenId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: SyncOutcome;
  readonly detail: string;
  readonly segmentsRead: number;
  readonly bytesRead: number;
  /** What that sync read of the battery and wrote as the level (null when it did not get that far, or recorded before these were kept). */
  readonly battery: number | null;
  readonly riskLevel: number | null;
  readonly riskReason: number | null;
}

export interface StaffAccount {
  readonly name: string;
  readonly hash: PasswordHash;
  readonly failedCount: number;
  /** Unix seconds; null or past when not locked. */
  readonly lockedUntil: number | null;
}

/** One week's exact counts over the tokens taking part in statistics: what noise is added to, never released as they are. */
export interface StatsCounts {
  /** Tokens with at least one completed sync in the week. */
  readonly synced: number;
  /** Tokens whose highest level written in the week was 1 (low)… */
  readonly warnedLow: number;
  /** …or 2 (high): each token is in one of the two at most. */
  readonly warnedHigh: number;
  /** Diagnosis uploads delivered in the week. */
  readonly diagnoses: number;
}

/** One week's counts as released (with noise), and the ε they were released with. */
export interface StatsRelease extends StatsCounts {
  /** The unix day number of the week's Monday (UTC). */
  readonly week: number;
  readonly epsilon: number;
  /** Unix seconds. */
  readonly releasedAt: number;
}

export type LoginResult = { ok: true; name: string } | { ok: false; reason: "wrong" } | { ok: false; reason: "locked"; until: number };

export interface ImportResult {
  /** Enrolled by this import. */
  readonly added: number;
  /** Their token ids, in the import's order (the dashboard then asks about statistics for each). */
  readonly addedTokens: readonly string[];
  /** Already enrolled with the same secret: left as they were. */
  readonly unchanged: number;
  /** Already enrolled with another secret: left as they were, since replacing a secret locks out the token that holds it. */
  readonly conflicting: readonly string[];
}

/** A token id given to `addToken` is already enrolled; nothing was written. */
export class TokenExistsError extends PrivateTracerError {
  readonly code = "TOKEN_EXISTS";
  readonly kind = "unusable";

  constructor(readonly tokenId: string) {
    super(`token ${tokenId} is already enrolled at this kiosk; nothing was changed`);
  }
}

/** The token is not enrolled at this kiosk. */
export class UnknownTokenError extends UserError {
  constructor(
    readonly tokenId: string,
    what: string
  ) {
    super(`token ${tokenId} is not enrolled at this kiosk: ${what}`);
  }
}

/** A token's sealed sync secret does not open: the master key is not the one it was enrolled with, or the row was altered. */
export class SyncSecretError extends PrivateTracerError {
  readonly code = "KIOSK_SECRET_LOCKED";
  readonly kind = "invalid";

  constructor(
    readonly tokenId: string,
    file: string
  ) {
    super(
      `the sync secret of token ${tokenId} in ${file} does not open with this master key: ` +
        `give the master key file this database was made with, or, if the row was altered, enrol the token again`
    );
  }
}

/** The database could not be written (disk full, read-only, locked too long); the call's changes were all rolled back. */
export class KioskStoreWriteError extends PrivateTracerError {
  readonly code = "KIOSK_STORE_WRITE_FAILED";
  readonly kind = "unusable";
}

const TOKEN_ID = new RegExp(`^[0-9a-f]{${TOKEN_ID_BYTES * 2}}$`);
// As provisioning accepts them, so every enrolment it made can be imported.
const BOARD_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const LABEL_MAX = 64;
const STAFF_NAME_MAX = 64;
/** Failed logins in a row that lock a staff account, and for how long. */
export const LOCKOUT_AFTER = 5;
export const LOCKOUT_SECONDS = 15 * 60;
const DETAIL_MAX = 1000;
const U32_MAX = 0xffffffff;

const MIGRATION_1 = `
CREATE TABLE tokens (
  token_id TEXT NOT NULL PRIMARY KEY CHECK (length(token_id) = ${TOKEN_ID_BYTES * 2} AND token_id NOT GLOB '*[^0-9a-f]*'),
  label TEXT NOT NULL CHECK (length(label) <= ${LABEL_MAX}),
  board TEXT NOT NULL,
  sync_secret BLOB NOT NULL,
  enrolled_at INTEGER NOT NULL,
  last_sync_at INTEGER,
  battery INTEGER CHECK (battery BETWEEN 0 AND 100),
  clock_drift_s INTEGER,
  faults INTEGER CHECK (faults >= 0),
  boots INTEGER CHECK (boots >= 0),
  risk_level INTEGER CHECK (risk_level BETWEEN 0 AND 2),
  risk_reason INTEGER CHECK (risk_reason BETWEEN 0 AND 255),
  risk_at INTEGER,
  acked_to INTEGER CHECK (acked_to >= 0),
  CHECK ((risk_level IS NULL) = (risk_reason IS NULL) AND (risk_level IS NULL) = (risk_at IS NULL))
) STRICT;

CREATE TABLE sync_history (
  id INTEGER PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES tokens (token_id),
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL CHECK (ended_at >= started_at),
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'link-lost', 'auth-failed', 'error')),
  detail TEXT NOT NULL,
  segments_read INTEGER NOT NULL CHECK (segments_read >= 0),
  bytes_read INTEGER NOT NULL CHECK (bytes_read >= 0)
) STRICT;
CREATE INDEX sync_history_by_token ON sync_history (token_id, id);

CREATE TABLE archive_segments (
  token_id TEXT NOT NULL REFERENCES tokens (token_id) ON DELETE CASCADE,
  seg INTEGER NOT NULL CHECK (seg >= 0),
  day INTEGER NOT NULL CHECK (day >= 0),
  sealed BLOB NOT NULL,
  stored_at INTEGER NOT NULL,
  PRIMARY KEY (token_id, seg)
) STRICT;
CREATE INDEX archive_segments_by_day ON archive_segments (day);
`;

/** Kiosk-wide secrets, sealed with the master key like the sync secrets: the care home's key (the beacon). */
const MIGRATION_2 = `
CREATE TABLE settings (
  name TEXT NOT NULL PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;
`;

/**
 * Staff who may use the dashboard: a scrypt hash with its salt and costs (so
 * the costs can be raised later without locking anyone out), and the lock-out
 * state, kept here so that restarting the kiosk does not lift a lock.
 */
const MIGRATION_3 = `
CREATE TABLE staff (
  name TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND ${STAFF_NAME_MAX}),
  hash BLOB NOT NULL,
  salt BLOB NOT NULL,
  scrypt_n INTEGER NOT NULL CHECK (scrypt_n > 1),
  scrypt_r INTEGER NOT NULL CHECK (scrypt_r > 0),
  scrypt_p INTEGER NOT NULL CHECK (scrypt_p > 0),
  failed_count INTEGER NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
  locked_until INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
`;

/** What each sync said of the battery and the level, per session: the dashboard's trends (nullable: older rows lack them). */
const MIGRATION_4 = `
ALTER TABLE sync_history ADD COLUMN battery INTEGER CHECK (battery BETWEEN 0 AND 100);
ALTER TABLE sync_history ADD COLUMN risk_level INTEGER CHECK (risk_level BETWEEN 0 AND 2);
ALTER TABLE sync_history ADD COLUMN risk_reason INTEGER CHECK (risk_reason BETWEEN 0 AND 255);
`;

/**
 * Opt-in statistics (statistics.ts, docs/statistics.md). A token's choice is
 * the time it was given (NULL: not taking part, the default). Diagnoses are
 * kept as a count per week only, never whose; a week's released noisy counts
 * are kept so that the same week is never released again with fresh noise.
 * Weeks are the unix day number of their Monday (UTC).
 */
const MIGRATION_5 = `
ALTER TABLE tokens ADD COLUMN stats_opt_in_at INTEGER CHECK (stats_opt_in_at >= 0);

CREATE TABLE stats_diagnoses (
  week INTEGER NOT NULL PRIMARY KEY CHECK (week >= 0),
  count INTEGER NOT NULL CHECK (count >= 0)
) STRICT;

CREATE TABLE stats_releases (
  week INTEGER NOT NULL PRIMARY KEY CHECK (week >= 0),
  epsilon REAL NOT NULL CHECK (epsilon > 0),
  synced INTEGER NOT NULL CHECK (synced >= 0),
  warned_low INTEGER NOT NULL CHECK (warned_low >= 0),
  warned_high INTEGER NOT NULL CHECK (warned_high >= 0),
  diagnoses INTEGER NOT NULL CHECK (diagnoses >= 0),
  released_at INTEGER NOT NULL
) STRICT;
`;

// The exposure behind the level, for the advice staff read: a day and rounded minutes, never who or where (docs/threat-model.md).
const MIGRATION_6 = `
ALTER TABLE tokens ADD COLUMN exposure_day TEXT CHECK (exposure_day IS NULL OR (length(exposure_day) = 10 AND exposure_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'));
ALTER TABLE tokens ADD COLUMN exposure_minutes INTEGER CHECK (exposure_minutes IS NULL OR exposure_minutes BETWEEN 0 AND 1440);
`;

export const KIOSK_SCHEMA: Schema = {
  name: "kiosk database",
  // "PTk1" in ASCII: marks the file as ours in its header.
  applicationId: 0x50546b31,
  migrations: [
    { version: 1, up: (db) => db.exec(MIGRATION_1) },
    { version: 2, up: (db) => db.exec(MIGRATION_2) },
    { version: 3, up: (db) => db.exec(MIGRATION_3) },
    { version: 4, up: (db) => db.exec(MIGRATION_4) },
    { version: 5, up: (db) => db.exec(MIGRATION_5) },
    { version: 6, up: (db) => db.exec(MIGRATION_6) }
  ]
};

interface TokenRow {
  token_id: string;
  label: string;
  board: string;
  enrolled_at: number;
  last_sync_at: number | null;
  battery: number | null;
  clock_drift_s: number | null;
  faults: number | null;
  boots: number | null;
  risk_level: number | null;
  risk_reason: number | null;
  risk_at: number | null;
  exposure_day: string | null;
  exposure_minutes: number | null;
  acked_to: number | null;
}

interface HistoryRow {
  id: number;
  token_id: string;
  started_at: number;
  ended_at: number;
  outcome: SyncOutcome;
  detail: string;
  segments_read: number;
  bytes_read: number;
  battery: number | null;
  risk_level: number | null;
  risk_reason: number | null;
}

interface StaffRow {
  name: string;
  hash: Buffer;
  salt: Buffer;
  scrypt_n: number;
  scrypt_r: number;
  scrypt_p: number;
  failed_count: number;
  locked_until: number | null;
  created_at: number;
}

interface SegmentRow {
  seg: number;
  day: number;
  sealed: Buffer;
  stored_at: number;
}

const TOKEN_COLUMNS =
  "token_id, label, board, enrolled_at, last_sync_at, battery, clock_drift_s, faults, boots, risk_level, risk_reason, risk_at, exposure_day, exposure_minutes, acked_to";

/** Prepared once per connection: a sync records a few statements, a status page reads many times a minute. */
function prepare(db: Db) {
  return {
    insertToken: db.prepare<[string, string, string, Buffer, number]>(
      "INSERT INTO tokens (token_id, label, board, sync_secret, enrolled_at) VALUES (?, ?, ?, ?, ?)"
    ),
    tokens: db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY label, token_id`),
    token: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE token_id = ?`),
    secret: db.prepare<[string], { sync_secret: Buffer }>("SELECT sync_secret FROM tokens WHERE token_id = ?"),
    insertHistory: db.prepare<[string, number, number, SyncOutcome, string, number, number, number | null, number | null, number | null]>(
      `INSERT INTO sync_history (token_id, started_at, ended_at, outcome, detail, segments_read, bytes_read, battery, risk_level, risk_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    ),
    // NULL keeps the column: a sync updates only what it learnt.
    updateStatus: db.prepare<[StatusParams]>(
      `UPDATE tokens SET
         last_sync_at = coalesce(@lastSyncAt, last_sync_at), battery = coalesce(@battery, battery),
         clock_drift_s = coalesce(@clockDriftS, clock_drift_s), faults = coalesce(@faults, faults), boots = coalesce(@boots, boots),
         risk_level = coalesce(@riskLevel, risk_level), risk_reason = coalesce(@riskReason, risk_reason),
         risk_at = coalesce(@riskAt, risk_at), acked_to = coalesce(@ackedTo, acked_to),
         exposure_day = CASE WHEN @riskAt IS NULL THEN exposure_day ELSE @exposureDay END,
         exposure_minutes = CASE WHEN @riskAt IS NULL THEN exposure_minutes ELSE @exposureMinutes END
       WHERE token_id = @tokenId`
    ),
    upsertSegment: db.prepare<[string, number, number, Buffer, number]>(
      `INSERT INTO archive_segments (token_id, seg, day, sealed, stored_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (token_id, seg) DO UPDATE SET day = excluded.day, sealed = excluded.sealed, stored_at = excluded.stored_at`
    ),
    archive: db.prepare<[string], SegmentRow>("SELECT seg, day, sealed, stored_at FROM archive_segments WHERE token_id = ? ORDER BY seg"),
    dropSegment: db.prepare<[string, number]>("DELETE FROM archive_segments WHERE token_id = ? AND seg = ?"),
    prune: db.prepare<[number]>("DELETE FROM archive_segments WHERE day < ?"),
    pruneToken: db.prepare<[string, number]>("DELETE FROM archive_segments WHERE token_id = ? AND day < ?"),
    ackedTo: db.prepare<[number, string]>("UPDATE tokens SET acked_to = ? WHERE token_id = ?"),
    history: db.prepare<[string, number], HistoryRow>(
      `SELECT id, token_id, started_at, ended_at, outcome, detail, segments_read, bytes_read, battery, risk_level, risk_reason
       FROM sync_history WHERE token_id = ? ORDER BY id DESC LIMIT ?`
    ),
    staff: db.prepare<[string], StaffRow>("SELECT * FROM staff WHERE name = ?"),
    staffNames: db.prepare<[], { name: string }>("SELECT name FROM staff ORDER BY name"),
    insertStaff: db.prepare<[string, Buffer, Buffer, number, number, number, number]>(
      "INSERT INTO staff (name, hash, salt, scrypt_n, scrypt_r, scrypt_p, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
    updateStaffHash: db.prepare<[Buffer, Buffer, number, number, number, string]>(
      "UPDATE staff SET hash = ?, salt = ?, scrypt_n = ?, scrypt_r = ?, scrypt_p = ?, failed_count = 0, locked_until = NULL WHERE name = ?"
    ),
    loginFailed: db.prepare<[number, number, number, string, number]>(
      // The count starts again once a lock has run out; the fifth failure in a row sets the lock and clears the count.
      `UPDATE staff SET
         failed_count = CASE WHEN failed_count + 1 >= ? THEN 0 ELSE failed_count + 1 END,
         locked_until = CASE WHEN failed_count + 1 >= ? THEN ? ELSE locked_until END
       WHERE name = ? AND (locked_until IS NULL OR locked_until <= ?)`
    ),
    loginSucceeded: db.prepare<[string]>("UPDATE staff SET failed_count = 0, locked_until = NULL WHERE name = ?"),
    deleteHistory: db.prepare<[string]>("DELETE FROM sync_history WHERE token_id = ?"),
    deleteArchive: db.prepare<[string]>("DELETE FROM archive_segments WHERE token_id = ?"),
    deleteToken: db.prepare<[string]>("DELETE FROM tokens WHERE token_id = ?")
  };
}

export class KioskStore {
  private readonly file: string;
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly now: () => number;

  /** Opens (creating and migrating if needed) the store in `file`, sealing and opening secrets with `key`. */
  static open(file: string, key: MasterKey, options: StoreOptions = {}): KioskStore {
    return new KioskStore(openDatabase(file, KIOSK_SCHEMA, options), key, options);
  }

  /** Over a connection `openDatabase(…, KIOSK_SCHEMA)` made; the store closes it on `close()`. */
  constructor(
    private readonly db: Db,
    private readonly key: MasterKey,
    options: StoreOptions = {}
  ) {
    this.now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
    this.file = db.name;
    if (schemaVersion(db) !== KIOSK_SCHEMA.migrations.length)
      throw new Error(`${this.file} is not at schema version ${KIOSK_SCHEMA.migrations.length}: open it with KIOSK_SCHEMA`);
    this.stmt = prepare(db);
  }

  /** Enrols one token. Throws TokenExistsError if its id is already enrolled, UserError if a field is malformed. */
  addToken(t: TokenEnrolment): void {
    const e = checkEnrolment(t, "the token");
    this.write("enrol the token", () => {
      if (this.stmt.token.get(e.tokenId)) throw new TokenExistsError(e.tokenId);
      this.insert(e);
    });
  }

  /**
   * Enrols many tokens in one transaction: a malformed entry throws and
   * nothing is imported. Tokens already enrolled are left as they were,
   * counted as unchanged (same secret) or conflicting (another secret).
   */
  importTokens(entries: readonly TokenEnrolment[]): ImportResult {
    const checked = entries.map((t, i) => checkEnrolment(t, `entry ${i + 1} of the import`));
    return this.write("import the tokens", () => {
      const addedTokens: string[] = [];
      let unchanged = 0;
      const conflicting: string[] = [];
      for (const e of checked) {
        if (!this.stmt.secret.get(e.tokenId)) {
          this.insert(e);
          addedTokens.push(e.tokenId);
        } else if (Buffer.from(this.syncSecret(e.tokenId)).equals(Buffer.from(e.syncSecret))) unchanged++;
        else conflicting.push(e.tokenId);
      }
      return { added: addedTokens.length, addedTokens, unchanged, conflicting };
    });
  }

  /**
   * The care home's key (32 bytes), with which the kiosk makes the beacon that
   * opens its tokens' sync windows (wire/beacon.ts). A kiosk serves one home:
   * another key than the one it holds is refused.
   */
  setHomeKey(homeKey: Uint8Array): void {
    if (homeKey.length !== 32) throw new UserError(`a home key is 32 bytes, not ${homeKey.length}`);
    this.write("store the home key", () => {
      const held = this.homeKey();
      if (held && !Buffer.from(held).equals(Buffer.from(homeKey)))
        throw new UserError(
          `this kiosk already serves a care home with another home key: its tokens come from another enrolment store. Import that home's store, or make a kiosk for this one (kiosk init)`
        );
      if (!held) this.db.prepare("INSERT INTO settings (name, value) VALUES ('homeKey', ?)").run(seal(this.key, homeKey, HOME_KEY_AAD));
    });
  }

  /** The care home's key, or null before the first import. */
  homeKey(): Uint8Array | null {
    const row = this.db.prepare<[], { value: Buffer }>("SELECT value FROM settings WHERE name = 'homeKey'").get();
    if (!row) return null;
    try {
      return new Uint8Array(open(this.key, row.value, HOME_KEY_AAD));
    } catch {
      throw new SealedValueError(
        `the care home's key in ${this.file} does not open with this master key: give the master key file this database was made with`
      );
    }
  }

  /** Every enrolled token, without secrets, by label. */
  tokens(): TokenRecord[] {
    return this.stmt.tokens.all().map(toRecord);
  }

  token(tokenId: string): TokenRecord | undefined {
    const row = this.stmt.token.get(tokenId);
    return row && toRecord(row);
  }

  /** The token's sync secret, opened. Throws UnknownTokenError, or SyncSecretError if it does not open. */
  syncSecret(tokenId: string): Uint8Array {
    const row = this.stmt.secret.get(tokenId);
    if (!row) throw new UnknownTokenError(tokenId, "it has no sync secret here");
    try {
      return new Uint8Array(open(this.key, row.sync_secret, secretAad(tokenId)));
    } catch (e) {
      if (e instanceof SealedValueError) throw new SyncSecretError(tokenId, this.file);
      throw e;
    }
  }

  /** Every enrolled token with its opened sync secret; throws SyncSecretError naming the first that does not open. */
  syncTargets(): SyncTarget[] {
    return this.stmt.tokens.all().map((r) => ({ tokenId: r.token_id, syncSecret: this.syncSecret(r.token_id), ackedTo: r.acked_to }));
  }

  /**
   * Records one sync in one transaction: its history row, the status it
   * learnt, and the segments it read. Returns the history row's id. When this
   * returns, all of it is on disk; when it throws, none of it was written.
   */
  recordSync(r: SyncRecord): number {
    const c = checkSync(r);
    return this.write("record the sync", () => {
      if (!this.stmt.token.get(c.tokenId)) throw new UnknownTokenError(c.tokenId, "its sync was not recorded");
      const id = Number(
        this.stmt.insertHistory.run(
          c.tokenId,
          c.startedAt,
          c.endedAt,
          c.outcome,
          c.detail,
          c.segmentsRead,
          c.bytesRead,
          c.status?.battery ?? null,
          c.status?.riskLevel ?? null,
          c.status?.riskReason ?? null
        ).lastInsertRowid
      );
      if (c.status) this.stmt.updateStatus.run({ tokenId: c.tokenId, ...c.status });
      this.putSegments(c.tokenId, c.segments, c.dropSegments);
      return id;
    });
  }

  /**
   * Stores what a sync read of the token's log, in one transaction, before the
   * token is told it may free it: the segments, the drops, this token's ageing
   * out, and the acknowledgement. When this returns it is all on disk.
   */
  storeArchive(a: ArchiveCommit): void {
    const at = `the archive of token ${checkTokenId(a.tokenId, "the archive")}`;
    const { segments, dropSegments } = checkSegments(a.segments, a.dropSegments, at);
    const beforeDay = checkInt(a.beforeDay, `${at}: the day to age out before`, 0, UNIX_MAX);
    const ackedTo = checkInt(a.ackedTo, `${at}: the acknowledged segment`, 0, U32_MAX);
    this.write("store the archive", () => {
      if (!this.stmt.token.get(a.tokenId)) throw new UnknownTokenError(a.tokenId, "its archive was not stored");
      this.putSegments(a.tokenId, segments, dropSegments);
      this.stmt.pruneToken.run(a.tokenId, beforeDay);
      this.stmt.ackedTo.run(ackedTo, a.tokenId);
    });
  }

  /** The token's archived segments, by segment number. */
  archive(tokenId: string): StoredSegment[] {
    return this.stmt.archive.all(tokenId).map((r) => ({ seg: r.seg, day: r.day, sealed: new Uint8Array(r.sealed), storedAt: r.stored_at }));
  }

  /** How much of the token's archive is kept, without reading the sealed bytes: segments and the oldest day (null when none). */
  archiveSummary(tokenId: string): { segments: number; oldestDay: number | null } {
    const r = this.db
      .prepare<[string], { n: number; oldest: number | null }>(
        "SELECT count(*) AS n, min(day) AS oldest FROM archive_segments WHERE token_id = ?"
      )
      .get(tokenId);
    return { segments: r?.n ?? 0, oldestDay: r?.oldest ?? null };
  }

  /** Deletes every archived segment whose first record is from before `beforeDay` (a unix day number); returns how many. */
  pruneArchive(beforeDay: number): number {
    checkInt(beforeDay, "the day to prune before", 0, Number.MAX_SAFE_INTEGER);
    return this.write("prune the archive", () => this.stmt.prune.run(beforeDay).changes);
  }

  /** The token's last `limit` syncs, newest first. */
  history(tokenId: string, limit: number): HistoryEntry[] {
    checkInt(limit, "the history limit", 0, Number.MAX_SAFE_INTEGER);
    return this.stmt.history.all(tokenId, limit).map((r) => ({
      id: r.id,
      tokenId: r.token_id,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      outcome: r.outcome,
      detail: r.detail,
      segmentsRead: r.segments_read,
      bytesRead: r.bytes_read,
      battery: r.battery,
      riskLevel: r.risk_level,
      riskReason: r.risk_reason
    }));
  }

  /**
   * Retires a token: its row, its sealed archive and its sync history go in
   * one transaction. The archive could only ever be opened with the token's
   * own secret, and without the row nothing on this kiosk names the token.
   * Returns false when it was not enrolled.
   */
  retireToken(tokenId: string): boolean {
    checkTokenId(tokenId, "the token to retire");
    return this.write("retire the token", () => {
      if (!this.stmt.token.get(tokenId)) return false;
      this.stmt.deleteArchive.run(tokenId);
      this.stmt.deleteHistory.run(tokenId);
      this.stmt.deleteToken.run(tokenId);
      return true;
    });
  }

  /** Adds a staff account. Throws UserError if the name is taken or malformed. */
  addStaff(name: string, hash: PasswordHash): void {
    const n = checkStaffName(name);
    this.write("add the staff account", () => {
      if (this.stmt.staff.get(n))
        throw new UserError(`there is already a staff account named ${JSON.stringify(n)}; use kiosk staff passwd to change its password`);
      this.stmt.insertStaff.run(n, Buffer.from(hash.hash), Buffer.from(hash.salt), hash.N, hash.r, hash.p, this.now());
    });
  }

  /** Replaces a staff account's password hash and lifts any lock. Throws UserError if there is no such account. */
  setStaffPassword(name: string, hash: PasswordHash): void {
    const n = checkStaffName(name);
    this.write("change the password", () => {
      const changed = this.stmt.updateStaffHash.run(Buffer.from(hash.hash), Buffer.from(hash.salt), hash.N, hash.r, hash.p, n).changes;
      if (!changed) throw new UserError(`there is no staff account named ${JSON.stringify(n)}: add it with kiosk staff add`);
    });
  }

  /** The staff accounts' names. */
  staffNames(): string[] {
    return this.stmt.staffNames.all().map((r) => r.name);
  }

  /** A staff account's stored hash and lock-out state, or undefined. */
  staff(name: string): StaffAccount | undefined {
    const r = this.stmt.staff.get(name);
    return (
      r && {
        name: r.name,
        hash: { hash: new Uint8Array(r.hash), salt: new Uint8Array(r.salt), N: r.scrypt_n, r: r.scrypt_r, p: r.scrypt_p },
        failedCount: r.failed_count,
        lockedUntil: r.locked_until
      }
    );
  }

  /**
   * Checks a login and keeps the lock-out count: LOCKOUT_AFTER wrong
   * passwords in a row lock the account for LOCKOUT_SECONDS, during which even
   * the right password is refused (so guessing cannot go on at all). An
   * unknown name costs the same hashing as a known one, so the answer's time
   * does not say which names exist.
   */
  async checkLogin(name: string, password: string, now = this.now()): Promise<LoginResult> {
    const account = this.staff(name);
    if (!account) {
      await verifyPassword(password, DUMMY_HASH);
      return { ok: false, reason: "wrong" };
    }
    if (account.lockedUntil !== null && account.lockedUntil > now) return { ok: false, reason: "locked", until: account.lockedUntil };
    const right = await verifyPassword(password, account.hash);
    if (right) {
      this.write("record the login", () => this.stmt.loginSucceeded.run(account.name));
      return { ok: true, name: account.name };
    }
    this.write("record the failed login", () =>
      this.stmt.loginFailed.run(LOCKOUT_AFTER, LOCKOUT_AFTER, now + LOCKOUT_SECONDS, account.name, now)
    );
    const after = this.staff(account.name);
    if (after?.lockedUntil && after.lockedUntil > now) return { ok: false, reason: "locked", until: after.lockedUntil };
    return { ok: false, reason: "wrong" };
  }

  /**
   * Records that the token's wearer (or their proxy) chose to take part in
   * the statistics, from `at` on. A token already taking part keeps the time
   * of its first choice. Throws UnknownTokenError.
   */
  setStatsOptIn(tokenId: string, at: number = this.now()): void {
    checkTokenId(tokenId, "the token taking part in statistics");
    const when = checkTime(at, "the time of the choice");
    this.write("record the choice to take part in statistics", () => {
      if (!this.stmt.token.get(tokenId)) throw new UnknownTokenError(tokenId, "its choice was not recorded");
      this.db.prepare("UPDATE tokens SET stats_opt_in_at = coalesce(stats_opt_in_at, ?) WHERE token_id = ?").run(when, tokenId);
    });
  }

  /** The wearer no longer takes part in the statistics (the default); returns whether they did. Throws UnknownTokenError. */
  clearStatsOptIn(tokenId: string): boolean {
    checkTokenId(tokenId, "the token leaving statistics");
    return this.write("record the choice not to take part in statistics", () => {
      if (!this.stmt.token.get(tokenId)) throw new UnknownTokenError(tokenId, "its choice was not recorded");
      return (
        this.db.prepare("UPDATE tokens SET stats_opt_in_at = NULL WHERE token_id = ? AND stats_opt_in_at IS NOT NULL").run(tokenId)
          .changes > 0
      );
    });
  }

  /** Since when (unix seconds) the token's wearer takes part in the statistics, or null when they do not (or it is not enrolled). */
  statsOptIn(tokenId: string): number | null {
    const r = this.db.prepare<[string], { at: number | null }>("SELECT stats_opt_in_at AS at FROM tokens WHERE token_id = ?").get(tokenId);
    return r?.at ?? null;
  }

  /** How many tokens take part in the statistics now. */
  statsOptedIn(): number {
    return this.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM tokens WHERE stats_opt_in_at IS NOT NULL").get()?.n ?? 0;
  }

  /**
   * Counts one delivered diagnosis in `week` (a unix day number) if the
   * token's wearer takes part in the statistics; returns whether it was
   * counted. Only the week's count is kept, never whose diagnosis it was.
   */
  countStatsDiagnosis(tokenId: string, week: number): boolean {
    checkTokenId(tokenId, "the diagnosed token");
    const w = checkInt(week, "the week", 0, WEEK_MAX);
    return this.write("count the diagnosis", () => {
      if (this.statsOptIn(tokenId) === null) return false;
      this.db.prepare("INSERT INTO stats_diagnoses (week, count) VALUES (?, 1) ON CONFLICT (week) DO UPDATE SET count = count + 1").run(w);
      return true;
    });
  }

  /**
   * The exact counts of the week starting on unix day `week` over the tokens
   * taking part now, each counted only for what happened since its choice.
   * For statistics.ts to add noise to: never shown or released as they are.
   */
  statsCounts(week: number): StatsCounts {
    const w = checkInt(week, "the week", 0, WEEK_MAX);
    const from = w * DAY_S;
    const to = (w + 7) * DAY_S;
    // A sync counts for a token taking part now, in the week, and after the wearer's choice.
    const taking = `FROM sync_history h JOIN tokens t ON t.token_id = h.token_id
       WHERE t.stats_opt_in_at IS NOT NULL AND h.ended_at >= t.stats_opt_in_at AND h.ended_at >= ? AND h.ended_at < ?`;
    const synced =
      this.db
        .prepare<[number, number], { n: number }>(`SELECT count(DISTINCT h.token_id) AS n ${taking} AND h.outcome = 'ok'`)
        .get(from, to)?.n ?? 0;
    // Each token once, by the highest level written to it in the week: one person moves one bar by one.
    const levels = this.db
      .prepare<[number, number], { top: number; n: number }>(
        `SELECT top, count(*) AS n FROM (SELECT max(h.risk_level) AS top ${taking} AND h.risk_level IS NOT NULL GROUP BY h.token_id) GROUP BY top`
      )
      .all(from, to);
    const diagnoses = this.db.prepare<[number], { count: number }>("SELECT count FROM stats_diagnoses WHERE week = ?").get(w)?.count ?? 0;
    return {
      synced,
      warnedLow: levels.find((l) => l.top === 1)?.n ?? 0,
      warnedHigh: levels.find((l) => l.top === 2)?.n ?? 0,
      diagnoses
    };
  }

  /** The week's release, if it was released. */
  statsRelease(week: number): StatsRelease | undefined {
    const r = this.db.prepare<[number], StatsReleaseRow>("SELECT * FROM stats_releases WHERE week = ?").get(week);
    return r && toRelease(r);
  }

  /** Every week released, newest first. */
  statsReleases(): StatsRelease[] {
    return this.db.prepare<[], StatsReleaseRow>("SELECT * FROM stats_releases ORDER BY week DESC").all().map(toRelease);
  }

  /**
   * Releases the week once: in one transaction, the week's stored release if
   * there is one (`fresh` false), else `noisy` applied to its exact counts,
   * stored, and the week's diagnosis count, no longer needed, deleted. A week
   * is never released twice with fresh noise, even by two processes at once.
   */
  releaseStatsWeek(
    week: number,
    noisy: (exact: StatsCounts) => StatsCounts & { epsilon: number },
    at: number = this.now()
  ): { release: StatsRelease; fresh: boolean } {
    const w = checkInt(week, "the week", 0, WEEK_MAX);
    const when = checkTime(at, "the release time");
    return this.write("release the week's statistics", () => {
      const held = this.statsRelease(w);
      if (held) return { release: held, fresh: false };
      const n = noisy(this.statsCounts(w));
      const release: StatsRelease = {
        week: w,
        epsilon: n.epsilon,
        synced: checkInt(n.synced, "the released count", 0, U32_MAX),
        warnedLow: checkInt(n.warnedLow, "the released count", 0, U32_MAX),
        warnedHigh: checkInt(n.warnedHigh, "the released count", 0, U32_MAX),
        diagnoses: checkInt(n.diagnoses, "the released count", 0, U32_MAX),
        releasedAt: when
      };
      if (!(Number.isFinite(release.epsilon) && release.epsilon > 0))
        throw new UserError(`ε must be a positive number, not ${release.epsilon}`);
      this.db
        .prepare(
          `INSERT INTO stats_releases (week, epsilon, synced, warned_low, warned_high, diagnoses, released_at)
           VALUES (@week, @epsilon, @synced, @warnedLow, @warnedHigh, @diagnoses, @releasedAt)`
        )
        .run(release);
      this.db.prepare("DELETE FROM stats_diagnoses WHERE week = ?").run(w);
      return { release, fresh: true };
    });
  }

  /** What SQLite's integrity and foreign-key checks find: empty when the file is sound. */
  check(): string[] {
    const integrity = (this.db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check);
    const problems = integrity.length === 1 && integrity[0] === "ok" ? [] : integrity;
    const orphans = this.db.pragma("foreign_key_check") as { table: string; rowid: number; parent: string }[];
    return [...problems, ...orphans.map((o) => `row ${o.rowid} of ${o.table} refers to a missing row of ${o.parent}`)];
  }

  close(): void {
    this.db.close();
  }

  /** Drops first, so a segment both dropped and read again keeps its fresh copy. */
  private putSegments(tokenId: string, segments: readonly ArchiveSegment[], drop: readonly number[]): void {
    for (const seg of drop) this.stmt.dropSegment.run(tokenId, seg);
    const storedAt = this.now();
    for (const s of segments) this.stmt.upsertSegment.run(tokenId, s.seg, s.day, Buffer.from(s.sealed), storedAt);
  }

  private insert(e: TokenEnrolment): void {
    this.stmt.insertToken.run(e.tokenId, e.label, e.board, seal(this.key, e.syncSecret, secretAad(e.tokenId)), e.enrolledAt);
  }

  /** Runs `fn` as one IMMEDIATE transaction, so it never fails half-way for a lock another process took after it began. */
  private write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (isStorageFault(e))
        throw new KioskStoreWriteError(`could not ${what} in ${this.file}: ${(e as Error).message}; nothing of it was written`);
      throw e;
    }
  }
}

const HOME_KEY_AAD = "settings.homeKey";

const DAY_S = 86400;
const WEEK_MAX = Math.floor(2 ** 40 / DAY_S);

interface StatsReleaseRow {
  week: number;
  epsilon: number;
  synced: number;
  warned_low: number;
  warned_high: number;
  diagnoses: number;
  released_at: number;
}

function toRelease(r: StatsReleaseRow): StatsRelease {
  return {
    week: r.week,
    epsilon: r.epsilon,
    synced: r.synced,
    warnedLow: r.warned_low,
    warnedHigh: r.warned_high,
    diagnoses: r.diagnoses,
    releasedAt: r.released_at
  };
}

/** Binds a sealed secret to its column and its row: copied to another token, it no longer opens. */
function secretAad(tokenId: string): string {
  return `tokens.sync_secret:${tokenId}`;
}

/** Every column named, null where the sync did not learn it (coalesce keeps the stored value). */
type StatusParams = { tokenId: string } & { -readonly [K in keyof StatusUpdate]-?: Exclude<StatusUpdate[K], undefined> };

function toRecord(r: TokenRow): TokenRecord {
  return {
    tokenId: r.token_id,
    label: r.label,
    board: r.board,
    enrolledAt: r.enrolled_at,
    lastSyncAt: r.last_sync_at,
    battery: r.battery,
    clockDriftS: r.clock_drift_s,
    faults: r.faults,
    boots: r.boots,
    riskLevel: r.risk_level,
    riskReason: r.risk_reason,
    riskAt: r.risk_at,
    exposureDay: r.exposure_day,
    exposureMinutes: r.exposure_minutes,
    ackedTo: r.acked_to
  };
}

// Input checks: everything is refused before a transaction starts, with a message naming the field, so a
// caller's mistake never surfaces as an SQLite constraint error.

function checkInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
    throw new UserError(`${what} must be a whole number from ${min} to ${max}, not ${String(v)}`);
  return v;
}

const UNIX_MAX = 2 ** 40;
const checkTime = (v: unknown, what: string): number => checkInt(v, `${what} (unix seconds)`, 0, UNIX_MAX);

function checkTokenId(v: unknown, where: string): string {
  if (typeof v !== "string" || !TOKEN_ID.test(v))
    throw new UserError(`${where}: a token id is ${TOKEN_ID_BYTES * 2} lower-case hex characters, not ${JSON.stringify(v)}`);
  return v;
}

function checkStaffName(v: unknown): string {
  const name = typeof v === "string" ? v.trim() : "";
  if (!name || [...name].length > STAFF_NAME_MAX || /\p{Cc}/u.test(name))
    throw new UserError(`a staff name is 1 to ${STAFF_NAME_MAX} printable characters, not ${JSON.stringify(v)}`);
  return name;
}

function checkEnrolment(t: TokenEnrolment, where: string): TokenEnrolment {
  const tokenId = checkTokenId(t.tokenId, where);
  const at = `${where} (token ${tokenId})`;
  if (typeof t.label !== "string") throw new UserError(`${at}: the label must be text`);
  const label = t.label.trim();
  // A label is shown on kiosk screens and in logs: printable text only, so it cannot forge lines.
  if ([...label].length > LABEL_MAX || /\p{Cc}/u.test(label))
    throw new UserError(`${at}: a label is at most ${LABEL_MAX} printable characters`);
  if (typeof t.board !== "string" || !BOARD_ID.test(t.board))
    throw new UserError(`${at}: ${JSON.stringify(t.board)} is not a board id (e.g. puckjs)`);
  if (!(t.syncSecret instanceof Uint8Array) || t.syncSecret.length !== SECRET_KEY_BYTES)
    throw new UserError(`${at}: a sync secret is ${SECRET_KEY_BYTES} bytes`);
  return { tokenId, label, board: t.board, syncSecret: t.syncSecret, enrolledAt: checkTime(t.enrolledAt, `${at}: the enrolment time`) };
}

interface CheckedSync {
  readonly tokenId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: SyncOutcome;
  readonly detail: string;
  readonly segmentsRead: number;
  readonly bytesRead: number;
  readonly status: Omit<StatusParams, "tokenId"> | undefined;
  readonly segments: readonly ArchiveSegment[];
  readonly dropSegments: readonly number[];
}

function checkSync(r: SyncRecord): CheckedSync {
  const tokenId = checkTokenId(r.tokenId, "the sync record");
  const at = `the sync of token ${tokenId}`;
  const startedAt = checkTime(r.startedAt, `${at}: its start`);
  const endedAt = checkTime(r.endedAt, `${at}: its end`);
  if (endedAt < startedAt) throw new UserError(`${at}: it ends (${endedAt}) before it starts (${startedAt})`);
  if (!OUTCOMES.includes(r.outcome))
    throw new UserError(`${at}: the outcome must be one of ${OUTCOMES.join(", ")}, not ${JSON.stringify(r.outcome)}`);
  if (typeof r.detail !== "string") throw new UserError(`${at}: the detail must be text`);
  // Shortened, not refused: the detail is often an error's message, and refusing it would lose the record of that failure.
  const detail = r.detail.length > DETAIL_MAX ? r.detail.slice(0, DETAIL_MAX - 1) + "…" : r.detail;
  const segmentsRead = checkInt(r.segmentsRead, `${at}: segments read`, 0, Number.MAX_SAFE_INTEGER);
  const bytesRead = checkInt(r.bytesRead, `${at}: bytes read`, 0, Number.MAX_SAFE_INTEGER);
  const { segments, dropSegments } = checkSegments(r.segments ?? [], r.dropSegments ?? [], at);
  const status = r.status && checkStatus(r.status, at);
  return { tokenId, startedAt, endedAt, outcome: r.outcome, detail, segmentsRead, bytesRead, status, segments, dropSegments };
}

function checkSegments(
  given: readonly ArchiveSegment[],
  drop: readonly number[],
  at: string
): { segments: ArchiveSegment[]; dropSegments: number[] } {
  const seen = new Set<number>();
  const segments = given.map((s, i): ArchiveSegment => {
    const seg = checkInt(s.seg, `${at}: segment ${i + 1}'s number`, 0, U32_MAX);
    // Two copies of one segment in one sync would leave whichever came last, silently.
    if (seen.has(seg)) throw new UserError(`${at}: segment ${seg} is given twice`);
    seen.add(seg);
    if (!(s.sealed instanceof Uint8Array) || s.sealed.length === 0) throw new UserError(`${at}: segment ${seg} has no sealed bytes`);
    return { seg, day: checkInt(s.day, `${at}: segment ${seg}'s day`, 0, UNIX_MAX), sealed: s.sealed };
  });
  const dropSegments = drop.map((seg) => checkInt(seg, `${at}: a segment to drop`, 0, U32_MAX));
  return { segments, dropSegments };
}

function checkStatus(s: StatusUpdate, at: string): Omit<StatusParams, "tokenId"> {
  const opt = (v: number | null | undefined, f: (v: number) => number): number | null => (v === undefined || v === null ? null : f(v));
  const risk = [s.riskLevel, s.riskReason, s.riskAt].filter((v) => v !== undefined && v !== null).length;
  // Half a risk triple would pair a new level with an old reason or time.
  if (risk !== 0 && risk !== 3) throw new UserError(`${at}: the risk level, its reason and its time are given together or not at all`);
  if (risk === 0 && (s.exposureDay != null || s.exposureMinutes != null))
    throw new UserError(`${at}: an exposure's day and minutes are given with the level they explain`);
  if ((s.exposureDay == null) !== (s.exposureMinutes == null))
    throw new UserError(`${at}: an exposure's day and its minutes are given together or not at all`);
  if (s.exposureDay != null && !/^\d{4}-\d{2}-\d{2}$/.test(s.exposureDay))
    throw new UserError(`${at}: the exposure's day must be YYYY-MM-DD, not ${JSON.stringify(s.exposureDay)}`);
  return {
    lastSyncAt: opt(s.lastSyncAt, (v) => checkTime(v, `${at}: the last sync time`)),
    battery: opt(s.battery, (v) => checkInt(v, `${at}: the battery level (percent)`, 0, 100)),
    clockDriftS: opt(s.clockDriftS, (v) => checkInt(v, `${at}: the clock drift (seconds)`, -UNIX_MAX, UNIX_MAX)),
    faults: opt(s.faults, (v) => checkInt(v, `${at}: the fault count`, 0, U32_MAX)),
    boots: opt(s.boots, (v) => checkInt(v, `${at}: the boot count`, 0, U32_MAX)),
    riskLevel: opt(s.riskLevel, (v) => checkInt(v, `${at}: the risk level`, 0, 2)),
    riskReason: opt(s.riskReason, (v) => checkInt(v, `${at}: the risk reason`, 0, 255)),
    riskAt: opt(s.riskAt, (v) => checkTime(v, `${at}: the time of the risk level`)),
    exposureDay: s.exposureDay ?? null,
    exposureMinutes: opt(s.exposureMinutes, (v) => checkInt(v, `${at}: the exposure's minutes`, 0, 1440)),
    ackedTo: opt(s.ackedTo, (v) => checkInt(v, `${at}: the acknowledged segment`, 0, U32_MAX))
  };
}

/**
 * Enrols every token of a care home's enrolment store (provision/store.ts),
 * keeping the home's key for the beacon: what `kiosk import` and the
 * dashboard's enrol page both do, so they cannot drift apart.
 */
export function importEnrolmentStore(store: KioskStore, home: EnrolmentStore): ImportResult {
  store.setHomeKey(Buffer.from(home.homeKey, "hex"));
  return store.importTokens(
    home.enrolments.map((e) => ({
      tokenId: e.tokenId,
      label: e.label,
      board: e.board,
      syncSecret: Buffer.from(e.syncSecret, "hex"),
      enrolledAt: Math.floor(Date.parse(e.created) / 1000)
    }))
  );
}
