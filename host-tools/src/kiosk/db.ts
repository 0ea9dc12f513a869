import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { PrivateTracerError } from "../errors";

/**
 * Opening the kiosk's SQLite file: the connection settings every process that
 * touches it must share, and schema migrations keyed on `PRAGMA user_version`.
 * What the tables are is the store's business (store.ts); this module only
 * knows how to bring a file up to a list of migrations, or refuse it.
 */

export type Db = Database.Database;

/** One step of a schema: brings the file from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  readonly up: (db: Db) => void;
}

export interface Schema {
  /** What the file is, for messages ("kiosk database"). */
  readonly name: string;
  /**
   * Written into the file header (`PRAGMA application_id`) by the first
   * migration, so that another program's SQLite file given by mistake is
   * refused instead of having our tables added to it.
   */
  readonly applicationId: number;
  /** Versions 1, 2, 3… in order; the last one is the version this code writes. */
  readonly migrations: readonly Migration[];
}

export interface OpenOptions {
  /** How long a statement waits for another process's lock before failing (default 5 s). */
  readonly busyTimeoutMs?: number;
}

/** The file cannot be opened, is not one of ours, is damaged, or a migration failed; the file is left as it was. */
export class DatabaseUnreadableError extends PrivateTracerError {
  readonly code = "KIOSK_DB_UNREADABLE";
  readonly kind = "unusable";
}

/** The file's schema is newer than this code knows: it was written by a newer release. */
export class DatabaseTooNewError extends PrivateTracerError {
  readonly code = "KIOSK_DB_UNREADABLE";
  readonly kind = "unusable";

  constructor(
    message: string,
    readonly found: number,
    readonly known: number
  ) {
    super(message);
  }
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** better-sqlite3's error: a message plus SQLite's extended result code ("SQLITE_BUSY_SNAPSHOT"). */
export function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

/** Codes that say the file or the disk is at fault rather than our SQL: worth a message to a person, not a stack. */
export function isStorageFault(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PERM|PROTOCOL)/.test(code);
}

/** Opens (creating if missing) `file` and migrates it to `schema`'s last version. */
export function openDatabase(file: string, schema: Schema, options: OpenOptions = {}): Db {
  checkMigrations(schema);
  createOwnerOnly(file, schema);
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (e) {
    throw new DatabaseUnreadableError(`cannot open the ${schema.name} ${file}: ${(e as Error).message}`);
  }
  try {
    configure(db, file, schema, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    migrate(db, file, schema);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof PrivateTracerError) throw e;
    if (sqliteCode(e) === "SQLITE_NOTADB" || sqliteCode(e)?.startsWith("SQLITE_CORRUPT"))
      throw new DatabaseUnreadableError(
        `${file} is not a ${schema.name} or is damaged (${(e as Error).message}): restore it from a backup, or move it away to start an empty one (every token then enrolled again)`
      );
    if (sqliteCode(e)?.startsWith("SQLITE_BUSY"))
      throw new DatabaseUnreadableError(
        `${file} stayed locked by another process for more than ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS} ms: is a second kiosk running on it?`
      );
    if (isStorageFault(e)) throw new DatabaseUnreadableError(`cannot use the ${schema.name} ${file}: ${(e as Error).message}`);
    throw e;
  }
}

/** The schema version written in the file. */
export function schemaVersion(db: Db): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function checkMigrations(schema: Schema): void {
  // A gap or a duplicate would skip or repeat a step on some files only: a bug in this code, caught on every open.
  schema.migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${schema.name} migration ${i} has version ${m.version}, not ${i + 1}`);
  });
}

/**
 * The file holds personal data (labels, sync history) next to sealed secrets:
 * created owner-only, and SQLite gives its -wal and -shm files the main file's
 * mode, so they are owner-only too. An existing file keeps the mode it has.
 */
function createOwnerOnly(file: string, schema: Schema): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code === "ENOENT")
      throw new DatabaseUnreadableError(`cannot create the ${schema.name} ${file}: the folder ${path.dirname(file)} does not exist`);
    throw new DatabaseUnreadableError(`cannot create the ${schema.name} ${file}: ${(e as Error).message}`);
  }
  fs.closeSync(fd);
}

function configure(db: Db, file: string, schema: Schema, busyTimeoutMs: number): void {
  // First, so that every later statement, the switch to WAL included, waits for another process's lock instead of failing at once.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  // WAL: a commit is one append to the log, so a process killed at any instruction leaves either the whole
  // transaction or none of it; readers (a status page) never block the syncing writer.
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (mode !== "wal")
    throw new DatabaseUnreadableError(
      `the ${schema.name} ${file} cannot use write-ahead logging (journal mode stays "${String(mode)}"): put it on a local file system`
    );
  // FULL, not NORMAL. In WAL mode both keep the file consistent after a kill -9 (a commit is already in the log,
  // in the OS's cache, which outlives the process) and after a power cut (the log is synced before every
  // checkpoint, and a torn tail fails its checksums and is dropped whole). What NORMAL gives up is durability on
  // a power cut: the last commits before it may roll back. The kiosk acknowledges a token's log only once its
  // copy is stored (docs/sync-protocol.md, LOG_ACK), after which the token may free those segments, so a
  // rolled-back commit would be log lost on both sides. FULL syncs the log at each commit: one fsync per sync
  // session, nothing at a kiosk's rate. Durability still assumes a disk that honours fsync.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  // The pragma is silently ignored on a build without foreign keys, and the archive's cascade relies on it.
  if (db.pragma("foreign_keys", { simple: true }) !== 1) throw new Error("this SQLite build does not enforce foreign keys");
}

function migrate(db: Db, file: string, schema: Schema): void {
  const known = schema.migrations.length;
  // Checked before any step too, so that a newer or foreign file is refused even when there is nothing to apply.
  checkOurs(db, file, schema, schemaVersion(db), known);
  for (const m of schema.migrations) {
    // Read without the write lock first: the usual open, of a file already up to date, never waits for a writer.
    if (schemaVersion(db) >= m.version) continue;
    // IMMEDIATE takes the write lock before the version is read, so two processes opening a new file together
    // cannot both apply a step: the second waits (busy_timeout), then finds the step done.
    const step = db.transaction((): void => {
      const found = schemaVersion(db);
      checkOurs(db, file, schema, found, known);
      if (found >= m.version) return;
      if (found === 0) db.pragma(`application_id = ${schema.applicationId}`);
      try {
        m.up(db);
      } catch (e) {
        throw new DatabaseUnreadableError(
          `could not bring the ${schema.name} ${file} from version ${found} to ${m.version}: ${(e as Error).message}; it was left at version ${found}`
        );
      }
      db.pragma(`user_version = ${m.version}`);
    });
    step.immediate();
  }
}

function checkOurs(db: Db, file: string, schema: Schema, found: number, known: number): void {
  const appId = db.pragma("application_id", { simple: true }) as number;
  if (found === 0) {
    const objects = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_schema").get()?.n ?? 0;
    if (objects > 0 || appId !== 0)
      throw new DatabaseUnreadableError(`${file} is an SQLite file of another program, not a ${schema.name}: give the right file`);
    return;
  }
  if (appId !== schema.applicationId)
    throw new DatabaseUnreadableError(`${file} is an SQLite file of another program, not a ${schema.name}: give the right file`);
  if (found > known)
    throw new DatabaseTooNewError(
      `the ${schema.name} ${file} was written by a newer release (schema version ${found}; this one knows up to ${known}): ` +
        `run that release or a later one, or restore a backup made by this one. The file was left as it was.`,
      found,
      known
    );
}
