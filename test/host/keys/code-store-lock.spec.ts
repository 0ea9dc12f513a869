import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { issueCode, readCodeStore, updateCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { ReportType } from "../../../host-tools/src/keys/types";

describe("code store lock (issue-code and publish never drop each other's changes)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codes-lock-"));
  const file = path.join(dir, "codes.json");
  const issue = (waitMs?: number) =>
    updateCodeStore(file, (s) => issueCode(s, { now: 1_900_000_000, validSeconds: 3600, reportType: ReportType.ConfirmedTest }), {
      createIfMissing: true,
      waitMs
    });

  it("writes the change and leaves no lock behind", () => {
    issue();
    issue();
    assert.equal(readCodeStore(file).codes.length, 2);
    assert.ok(!fs.existsSync(`${file}.lock`));
  });

  it("waits for a lock another run holds, then refuses with a message saying what to do, changing nothing", () => {
    fs.writeFileSync(`${file}.lock`, "");
    try {
      assert.throws(() => issue(200), /locked by another publish or issue-code run; try again, or remove .*codes\.json\.lock/);
      assert.equal(readCodeStore(file).codes.length, 2);
    } finally {
      fs.rmSync(`${file}.lock`, { force: true });
    }
  });

  it("takes over a lock left by a run that died (older than a minute)", () => {
    fs.writeFileSync(`${file}.lock`, "");
    const old = new Date(Date.now() - 5 * 60_000);
    fs.utimesSync(`${file}.lock`, old, old);
    issue(200);
    assert.equal(readCodeStore(file).codes.length, 3);
    assert.ok(!fs.existsSync(`${file}.lock`));
  });

  it("releases the lock when the change throws, and writes nothing", () => {
    assert.throws(
      () =>
        updateCodeStore(file, () => {
          throw new Error("boom");
        }),
      /boom/
    );
    assert.ok(!fs.existsSync(`${file}.lock`));
    assert.equal(readCodeStore(file).codes.length, 3);
  });
});
