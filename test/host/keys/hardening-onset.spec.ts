import { strict as assert } from "node:assert";
import * as path from "node:path";
import { readCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { runCli, tempDir } from "./helpers";

/** Issue 15, item 6: `report issue-code --onset 2024-02-30` became 2024-03-01 without a word. */
describe("hardening: impossible dates (issue 15, item 6)", () => {
  for (const bad of ["2024-02-30", "2023-02-29", "2024-04-31", "2024-13-01", "2024-00-10"]) {
    it(`report issue-code --onset ${bad} is refused with exit 2, and no code is issued`, async () => {
      const codes = path.join(tempDir("onset"), "codes.json");
      const r = await runCli(["report", "issue-code", "--codes", codes, "--onset", bad]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, new RegExp(`--onset must be a real date YYYY-MM-DD .*got "${bad}"`));
      assert.equal(r.stdout, "", "no code printed");
    });
  }

  it("report issue-code --onset 2024-02-29 (a leap day) is that very day", async () => {
    const codes = path.join(tempDir("onset"), "codes.json");
    const r = await runCli(["report", "issue-code", "--codes", codes, "--onset", "2024-02-29"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readCodeStore(codes).codes[0].symptomOnset, Date.UTC(2024, 1, 29) / 1000);
  });
});
