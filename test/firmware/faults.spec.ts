import { strict as assert } from "node:assert";
import { useBoard } from "../helpers/board";
import { FakePlatform, FakeStorage } from "../helpers/fake-platform";
import { createFaults } from "../../firmware/src/faults";
import { FAULT_COUNT_FILE } from "../../firmware/src/wire/fault-count";
import { readTokenFlash } from "../../host-tools/src/sim/metrics/token-flash";

const BUILD = 1735689600;

function fault(p: FakePlatform): void {
  createFaults(p).guard(() => {
    throw new Error("boom");
  })();
}

describe("faults: the persisted fault count", () => {
  beforeEach(() => useBoard("puckjs", BUILD));

  it("a slot torn by a power cut after its first three bytes is not written over: the count never goes backwards", () => {
    const st = new FakeStorage();
    const p = new FakePlatform({ startTime: BUILD + 86400, storage: st });
    const b = new Uint8Array(64).fill(0xff);
    b.set([5, 0, 0, 0], 0); // count 5, complete
    b.set([0x10, 0, 0], 4); // the write of count 16 lost power before its last byte
    st.write(FAULT_COUNT_FILE, b, 0, 64);
    assert.equal(createFaults(p).count(), 5);
    fault(p); // 6, persisted at once
    assert.equal(st.overwrites, 0, "written over a used slot (on a token: the write fails)");
    const again = createFaults(p);
    assert.equal(again.count(), 6);
    // The host reads the count a kiosk would see the same way, past the torn slot.
    assert.equal(readTokenFlash({ read: (n) => st.read(n), list: () => st.list("") }).faults, 6);
  });
});
