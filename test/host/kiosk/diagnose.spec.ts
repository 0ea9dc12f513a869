import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diagnose } from "../../../host-tools/src/kiosk/diagnose";
import { weekOf } from "../../../host-tools/src/kiosk/statistics";
import { KioskDir, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { generateKioskKey } from "../../../host-tools/src/keys/kiosk-identity";
import { parseUpload, uploadSignatureValid } from "../../../host-tools/src/keys/upload";
import { SimTokens, openSimTokens } from "../../../host-tools/src/sync/sim-tokens";
import { testBundle } from "../../helpers/firmware";
import { KEYS, SECRET, T0, TOKEN_ID, ownTeks, writeExposedImage } from "./exposed-token";
import { kioskRadio } from "../../helpers/sim-radio";

/**
 * A diagnosis at the kiosk (host-tools/src/kiosk/diagnose.ts) on the
 * simulated radio: with the health authority's code and the wearer's press
 * during the session, the token's own past keys go into one signed upload
 * in the uploads directory; without the press, nothing is released and
 * nothing is uploaded. Today's key, still on the air, is never uploaded.
 */
describe("kiosk diagnose: a wearer's keys uploaded with the code and their press, never without", function () {
  this.timeout(240_000);
  let root: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-diagnose-"));
    await testBundle("puckjs");
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  async function setUp(name: string): Promise<{ kiosk: KioskDir; sim: SimTokens; uploads: string }> {
    const kiosk = initKioskDir(path.join(root, name, "kiosk"));
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * 86400 });
    const image = path.join(root, name, "room12.bin");
    await writeExposedImage(image);
    const sim = await openSimTokens({ images: [image], requireSecrets: true });
    sim.openWindows();
    const uploads = path.join(root, name, "uploads");
    fs.mkdirSync(uploads);
    return { kiosk, sim, uploads };
  }

  const KIOSK = generateKioskKey("common-room");
  const CODE = "ABCD-EFGH-JKMN-PQRS";

  it("the wearer presses during the session: their three past keys are signed with the code into the uploads directory", async () => {
    const { kiosk, sim, uploads } = await setUp("pressed");
    // The wearer chose to take part in the care home's statistics: the diagnosis is counted, as a number only.
    kiosk.store.setStatsOptIn(TOKEN_ID, T0 - 5 * 86400);
    const out = await diagnose({
      kiosk,
      ...kioskRadio(sim),
      tokenId: TOKEN_ID,
      code: CODE,
      kioskKey: KIOSK,
      uploadDir: uploads,
      keys: KEYS,
      consentWaitMs: 30_000,
      // The wearer presses the button once while the kiosk waits.
      onProgress: (e) => void (e.kind === "consent-wait" && sim.tokens[0].token.pressButton(200))
    });
    assert.equal(out.status, "uploaded", JSON.stringify(out.status === "not-synced" ? out.detail : out.status));
    if (out.status !== "uploaded") return;
    const upload = parseUpload(fs.readFileSync(out.file, "utf8"), out.file);
    assert.ok(uploadSignatureValid(upload, KIOSK.publicKey), "signed by this kiosk");
    assert.equal(upload.authorisationCode, CODE);
    const sent = upload.keys.map((k) => `${Buffer.from(k.keyData).toString("hex")}@${k.rollingStartIntervalNumber}`).sort();
    const own = ownTeks()
      .map((k) => `${Buffer.from(k.tek).toString("hex")}@${k.rollingStart}`)
      .sort();
    assert.deepEqual(sent, own, "exactly the past keys; today's key, still on the air, is left out");
    assert.equal(out.round.outcome, "ok", "the token was synced as usual too");
    assert.equal(fs.statSync(out.file).mode & 0o777, 0o600);
    assert.doesNotMatch(path.basename(out.file), new RegExp(TOKEN_ID.slice(0, 8)), "the file's name says nothing of the token");
    assert.equal(kiosk.store.statsCounts(weekOf(sim.now())).diagnoses, 1, "counted in the week's statistics");
    kiosk.store.close();
    await sim.transport.close();
  });

  it("no press: nothing released, nothing uploaded; a malformed code or a missing uploads directory asks nothing of the token", async () => {
    const { kiosk, sim, uploads } = await setUp("refused");
    kiosk.store.setStatsOptIn(TOKEN_ID, T0 - 5 * 86400);
    const base = {
      kiosk,
      ...kioskRadio(sim),
      tokenId: TOKEN_ID,
      kioskKey: KIOSK,
      keys: KEYS,
      consentWaitMs: 5000
    };
    await assert.rejects(diagnose({ ...base, code: "not a code", uploadDir: uploads }), /well-formed authorisation code/);
    await assert.rejects(diagnose({ ...base, code: CODE, uploadDir: path.join(root, "nowhere") }), /does not exist/);
    assert.equal(kiosk.store.history(TOKEN_ID, 10).length, 0, "the token was not even synced");
    const out = await diagnose({ ...base, code: CODE, uploadDir: uploads });
    assert.equal(out.status, "no-consent");
    assert.deepEqual(fs.readdirSync(uploads), []);
    assert.equal(kiosk.store.statsCounts(weekOf(sim.now())).diagnoses, 0, "no diagnosis reported, none counted");
    kiosk.store.close();
    await sim.transport.close();
  });
});
