import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { GENERATED_FILE, boardConfigTypeSource } from "../../host-tools/src/build/board-type";

describe("board config type", () => {
  it("is the one generated from board.schema.json (run `make board-type` after changing the schema)", async () => {
    assert.equal(fs.readFileSync(GENERATED_FILE, "utf8"), await boardConfigTypeSource());
  });
});
