import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildDashboard } from "../../../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../../../host-tools/src/kiosk/events";
import { KioskDir, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { DiagnoseRunner, RadioJobQueue, diagnoseRunner } from "../../../host-tools/src/kiosk/radio-jobs";
import { hashPassword } from "../../../host-tools/src/kiosk/staff";
import { generateKioskKey } from "../../../host-tools/src/keys/kiosk-identity";
import { parseUpload, uploadSignatureValid } from "../../../host-tools/src/keys/upload";
import { UploadDeliveryError } from "../../../host-tools/src/keys/upload-deliver";
import { openSimTokens } from "../../../host-tools/src/sync/sim-tokens";
import { testBundle } from "../../helpers/firmware";
import { Browser, CHEAP } from "./dashboard-helpers";
import { KEYS, SECRET, T0, TOKEN_ID, writeExposedImage } from "./exposed-token";
import { kioskRadio } from "../../helpers/sim-radio";

/**
 * Reporting a diagnosis from the dashboard: the code is checked, a radio job
 * is queued (the service runs it between passes), the page follows it
 * ("press the button on the token now") to its result in plain words, and
 * the home page says nothing of it. One case runs the real diagnosis
 * against an emulated token, pressed when the page says so.
 */

const PASSWORD = "long enough password";
const CODE = "ABCD-EFGH-JKMN-PQRS";
const T = 1_900_000_000;

/** The page without its per-render CSRF tokens, to compare two renders. */
const stable = (html: string): string => html.replace(/name="_csrf" value="[^"]*"/g, "");

describe("kiosk dashboard: reporting a diagnosis", function () {
  this.timeout(60_000);
  let root: string;
  let kiosk: KioskDir;
  let app: FastifyInstance | undefined;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-dash-diag-"));
    kiosk = initKioskDir(path.join(root, "kiosk"));
    kiosk.store.addStaff("Ann", await hashPassword(PASSWORD, CHEAP));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    kiosk.store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("without a kiosk key and upload target the page says diagnoses are not set up", async () => {
    app = await buildDashboard({ kiosk, now: () => T });
    const b = new Browser(app);
    await b.loggedIn("Ann", PASSWORD);
    const r = await b.get("/diagnose");
    assert.match(r.body, /Diagnoses are not set up on this kiosk/);
    assert.equal((await b.post("/diagnose", { token: "x", code: CODE })).statusCode, 400);
  });

  it("code entry queues a radio job; the page follows it to its result; the home page says nothing of it", async () => {
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T - 86400 });
    kiosk.store.addToken({ tokenId: "11".repeat(16), label: "Room 14", board: "puckjs", syncSecret: SECRET, enrolledAt: T - 86400 });
    const hub = new EventHub<KioskEvent>();
    const asked: Array<{ tokenId: string; code: string }> = [];
    const runner: DiagnoseRunner = async (request, _ctx, onProgress) => {
      asked.push(request);
      onProgress({ kind: "consent-wait", waitMs: 60_000 });
      return {
        status: "posted",
        url: "https://ha.example/uploads",
        duplicate: false,
        keys: 3,
        left: 0,
        round: null as never,
        warning: null
      };
    };
    const jobs = new RadioJobQueue(
      runner,
      (e) => hub.publish(e),
      () => T
    );
    app = await buildDashboard({ kiosk, events: hub, jobs, now: () => T });
    const b = new Browser(app);
    await b.loggedIn("Ann", PASSWORD);
    const homeBefore = stable((await b.get("/")).body);

    let r = await b.get("/diagnose");
    const handle = />Choose…<\/option>\s*<option value="([^"]+)">Room 12</.exec(r.body)?.[1];
    assert.ok(handle, r.body);
    r = await b.post("/diagnose", { token: handle, code: "not a code" });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /That code does not look right/);
    r = await b.post("/diagnose", { token: handle, code: CODE.toLowerCase() });
    assert.equal(r.statusCode, 303);
    const jobUrl = String(r.headers.location);
    r = await b.get(jobUrl);
    assert.match(r.body, /Report a diagnosis: Room 12/);
    assert.match(r.body, /Waiting for the radio/);
    r = await b.post("/diagnose", { token: handle, code: CODE });
    assert.equal(r.statusCode, 400, "a second diagnosis for the same token while one waits");
    assert.match(r.body, /already waiting/);

    const seen: string[] = [];
    hub.subscribe((e) => {
      if (e.kind === "radio-job") {
        seen.push(e.job.status.state);
        assert.ok(!JSON.stringify(e).includes(CODE), "the code is never in an event");
      }
    });
    await jobs.between({ keys: [] });
    assert.deepEqual(asked, [{ tokenId: TOKEN_ID, code: CODE }], "the code as the authority wrote it, for that token");
    assert.deepEqual(seen, ["searching", "press-now", "done"]);
    r = await b.get(jobUrl);
    assert.match(r.body, /Done: 3 day\(s\) of the wearer&#39;s keys were signed with the code and delivered/);
    assert.match(r.body, /state-done-sent/);
    assert.equal(stable((await b.get("/")).body), homeBefore, "the home page is the same as before: nothing on it says who was diagnosed");
  });

  it("a failure is a sentence, never a stack; an upload that could not be delivered says it is kept", async () => {
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T - 86400 });
    const hub = new EventHub<KioskEvent>();
    const texts: string[] = [];
    hub.subscribe((e) => {
      if (e.kind === "radio-job" && e.job.status.state === "done") texts.push(e.job.status.result.message);
    });
    let n = 0;
    const runner: DiagnoseRunner = async () => {
      n++;
      if (n === 1) throw new TypeError("cannot read properties of undefined (reading 'x')");
      if (n === 2) throw new UploadDeliveryError("https://ha.example/uploads did not answer within 30 s", null, "/kiosk/outbox/k-1.json");
      return { status: "no-consent", round: null as never };
    };
    const jobs = new RadioJobQueue(
      runner,
      (e) => hub.publish(e),
      () => T
    );
    jobs.enqueueDiagnosis(TOKEN_ID, CODE);
    await jobs.between({ keys: [] });
    jobs.enqueueDiagnosis(TOKEN_ID, CODE);
    await jobs.between({ keys: [] });
    jobs.enqueueDiagnosis(TOKEN_ID, CODE);
    await jobs.between({ keys: [] });
    assert.match(texts[0], /^Nothing was sent: something went wrong inside the kiosk/);
    assert.doesNotMatch(texts[0], /TypeError|undefined|at /);
    assert.match(
      texts[1],
      /could not be delivered yet \(https:\/\/ha\.example\/uploads did not answer within 30 s\)\. They are kept safely on the kiosk/
    );
    assert.match(texts[1], /the wearer need not press again/);
    assert.match(texts[2], /button on the token was not pressed in time, so nothing was sent/);
  });

  it("end to end on an emulated token: the page says press now, the wearer presses, the upload is signed and delivered", async () => {
    await testBundle("puckjs");
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * 86400 });
    const image = path.join(root, "room12.bin");
    await writeExposedImage(image);
    const sim = await openSimTokens({ images: [image], requireSecrets: true });
    sim.openWindows();
    const uploads = path.join(root, "uploads");
    fs.mkdirSync(uploads);
    const kioskKey = generateKioskKey("common-room");
    const hub = new EventHub<KioskEvent>();
    const jobs = new RadioJobQueue(
      diagnoseRunner({
        kiosk,
        ...kioskRadio(sim),
        kioskKey,
        uploadTo: uploads,
        consentWaitMs: 30_000
      }),
      (e) => hub.publish(e),
      sim.now
    );
    app = await buildDashboard({ kiosk, events: hub, jobs, now: sim.now });
    try {
      const b = new Browser(app);
      await b.loggedIn("Ann", PASSWORD);
      let r = await b.get("/diagnose");
      const handle = /<option value="([^"]+)">Room 12</.exec(r.body)![1];
      r = await b.post("/diagnose", { token: handle, code: CODE });
      const jobUrl = String(r.headers.location);
      let pressPage = "";
      hub.subscribe((e) => {
        if (e.kind !== "radio-job" || e.job.status.state !== "press-now") return;
        // What the page shows now; the wearer presses when told.
        void b.get(jobUrl).then((p) => (pressPage = p.body));
        sim.tokens[0].token.pressButton(200);
      });
      await jobs.between({ keys: KEYS });
      assert.match(pressPage, /Press the button on the token now/);
      r = await b.get(jobUrl);
      assert.match(r.body, /state-done-sent/, r.body);
      const files = fs.readdirSync(uploads);
      assert.equal(files.length, 1);
      const upload = parseUpload(fs.readFileSync(path.join(uploads, files[0]), "utf8"), files[0]);
      assert.ok(uploadSignatureValid(upload, kioskKey.publicKey));
      assert.equal(upload.authorisationCode, CODE);
      assert.equal(kiosk.store.history(TOKEN_ID, 5)[0].outcome, "ok", "synced as usual in the same session");
    } finally {
      await sim.transport.close();
    }
  });
});
