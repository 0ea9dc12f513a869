/**
 * The flood benchmark of issue 15: one JSON line with `realContactSurvival`
 * (share of the real close contacts of the last 14 days still in flash after
 * a 30-hour flood) and `attackFlagged` (tokenlog shows the flood and the
 * losses, so `match --flash` reports its level as incomplete). Run:
 * `node -r ts-node/register/transpile-only test/sim/log-flood-bench.ts [seed]`
 * (the Makefile target `bench-flood` is meant to run this).
 */
import { runLogFlood } from "./log-flood";

const seed = Number(process.argv[2] ?? 1);
const r = runLogFlood({ attackHours: 30, seed });
process.stdout.write(
  JSON.stringify({
    board: r.board,
    seed,
    attackHours: r.attackHours,
    realContactSurvival: Number(r.realContactSurvival.toFixed(4)),
    attackFlagged: r.attackFlagged,
    realCloseContacts: r.realCloseContacts,
    beforeAttack: r.beforeAttack,
    duringAttack: r.duringAttack,
    attackRecordsInLog: r.attackRecordsInLog,
    droppedCounted: r.droppedCounted
  }) + "\n"
);
