/**
 * A kiosk that records syncs as fast as it can until it is killed, for the
 * kill-9 spec in store.spec.ts. Usage: node -r ts-node/register
 * store-kill-worker.ts DB KEYFILE. It loads, then waits for a line on stdin
 * before opening the database, so the spec can keep the next worker loaded
 * while it checks what the last one left. Prints "ready", then the number of
 * each run once its recordSync has returned.
 */
import { KIOSK_SCHEMA, KioskStore } from "../../../host-tools/src/kiosk/store";
import { openDatabase } from "../../../host-tools/src/kiosk/db";
import { readMasterKey } from "../../../host-tools/src/kiosk/master-key";
import { KILL_BASE_TIME, KILL_TOKENS, planRun } from "./store-kill-plan";

function main(dbFile: string, keyFile: string): void {
  const db = openDatabase(dbFile, KIOSK_SCHEMA);
  // Checkpoints every few runs instead of every few hundred, so that kills also land in the middle of one.
  db.pragma("wal_autocheckpoint = 8");
  const store = new KioskStore(db, readMasterKey(keyFile));
  // Resume after the last run a previous worker committed: runs must stay numbered 0, 1, 2… for the spec's checks.
  let run = 0;
  for (const t of KILL_TOKENS) {
    const last = store.history(t, 1)[0];
    if (last) run = Math.max(run, last.startedAt - KILL_BASE_TIME + 1);
  }
  process.stdout.write("ready\n");
  // The spec kills this process within a second; should the spec itself die or time out, stop rather than loop for ever.
  const parent = process.ppid;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (process.ppid !== parent || Date.now() > deadline) process.exit(3);
    const p = planRun(run);
    store.recordSync({
      tokenId: p.tokenId,
      startedAt: KILL_BASE_TIME + run,
      endedAt: KILL_BASE_TIME + run,
      outcome: p.outcome,
      detail: p.detail,
      segmentsRead: p.segments.length,
      bytesRead: p.bytesRead,
      status: p.status,
      segments: p.segments
    });
    // Synchronous on a pipe: once the spec reads this line, the run had been committed.
    process.stdout.write(`${run}\n`);
    run++;
  }
}

const [dbFile, keyFile] = process.argv.slice(2);
process.stdin.once("data", () => main(dbFile, keyFile));
