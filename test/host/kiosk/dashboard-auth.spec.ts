import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildDashboard } from "../../../host-tools/src/kiosk/dashboard";
import { DB_FILE, KioskDir, MASTER_KEY_FILE, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { readMasterKey } from "../../../host-tools/src/kiosk/master-key";
import { hashPassword, verifyPassword } from "../../../host-tools/src/kiosk/staff";
import { KioskStore, LOCKOUT_SECONDS } from "../../../host-tools/src/kiosk/store";
import { STAFF_PASSWORD_ENV } from "../../../host-tools/src/kiosk/staff";
import { runCli } from "../../helpers/cli";
import { Browser, CHEAP } from "./dashboard-helpers";

/**
 * The dashboard's door: staff log in with a scrypt-hashed password, five
 * wrong ones lock the account for 15 minutes (a lock a restart does not
 * lift), sessions end after a while without use, and every change needs a
 * logged-in session and the form's CSRF token.
 */

const PASSWORD = "long enough password";
const T = 1_900_000_000;

describe("kiosk dashboard: login, lock-out, sessions and CSRF", function () {
  this.timeout(30_000);
  let root: string;
  let kiosk: KioskDir;
  let app: FastifyInstance;
  let t: number;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-dash-auth-"));
    kiosk = initKioskDir(path.join(root, "kiosk"));
    kiosk.store.addStaff("Ann", await hashPassword(PASSWORD, CHEAP));
    kiosk.store.addToken({
      tokenId: "ab".repeat(16),
      label: "Room 4",
      board: "puckjs",
      syncSecret: new Uint8Array(32),
      enrolledAt: T - 86400
    });
    t = T;
    app = await buildDashboard({ kiosk, now: () => t, idleSeconds: 600 });
  });
  afterEach(async () => {
    await app.close();
    kiosk.store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("hashes with scrypt: salted, costs kept, a short password refused", async () => {
    const a = await hashPassword(PASSWORD, CHEAP);
    const b = await hashPassword(PASSWORD, CHEAP);
    assert.notDeepEqual(Buffer.from(a.hash), Buffer.from(b.hash), "a fresh salt each time");
    assert.equal(a.N, CHEAP.N);
    assert.ok(await verifyPassword(PASSWORD, a));
    assert.ok(!(await verifyPassword(PASSWORD + "x", a)));
    await assert.rejects(hashPassword("short", CHEAP), /at least 10 characters/);
  });

  it("a page asks for a login first; the right password opens it, with a strict, httpOnly cookie", async () => {
    const b = new Browser(app);
    let r = await b.get("/");
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers.location), /^\/login/);
    r = await b.get("/login");
    assert.equal(r.statusCode, 200);
    const cookie = String(r.headers["set-cookie"]);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.doesNotMatch(cookie, /Secure/i, "plain http on 127.0.0.1: a secure cookie would never come back");
    const before = b.cookies.get("pt_session");
    r = await b.post("/login", { name: "Ann", password: PASSWORD });
    assert.equal(r.statusCode, 303, r.body);
    assert.notEqual(b.cookies.get("pt_session"), before, "a new session id at login");
    r = await b.get("/");
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /Room 4/);
    assert.match(r.body, /Log out <span class="who">\(Ann\)/);
    assert.match(String(r.headers["content-security-policy"]), /script-src 'self'/);

    r = await b.post("/logout", {});
    assert.equal(r.statusCode, 303);
    r = await b.get("/");
    assert.equal(r.statusCode, 303, "logged out");
  });

  it("a wrong password or an unknown name says the same; five wrong passwords lock the account, and reopening the store keeps the lock", async () => {
    const b = new Browser(app);
    let r = await b.login("Nobody", PASSWORD);
    assert.equal(r.statusCode, 401);
    assert.match(r.body, /name and password do not match/);
    for (let i = 0; i < 4; i++) {
      r = await b.login("Ann", "not the password");
      assert.equal(r.statusCode, 401, `attempt ${i + 1}`);
    }
    r = await b.login("Ann", "not the password");
    assert.equal(r.statusCode, 423, "the fifth locks");
    assert.match(r.body, /locked after 5 wrong passwords/);
    r = await b.login("Ann", PASSWORD);
    assert.equal(r.statusCode, 423, "even the right password is refused while locked");

    // The kiosk restarts: the lock is in the store.
    await app.close();
    kiosk.store.close();
    const store = KioskStore.open(path.join(kiosk.dir, DB_FILE), readMasterKey(path.join(kiosk.dir, MASTER_KEY_FILE)));
    kiosk = { ...kiosk, store };
    assert.equal((await store.checkLogin("Ann", PASSWORD, t)).ok, false);
    app = await buildDashboard({ kiosk, now: () => t, idleSeconds: 600 });
    const b2 = new Browser(app);
    r = await b2.login("Ann", PASSWORD);
    assert.equal(r.statusCode, 423);

    t += LOCKOUT_SECONDS + 1;
    await b2.loggedIn("Ann", PASSWORD);
    // A success clears the count: four more wrong ones do not lock.
    const b3 = new Browser(app);
    for (let i = 0; i < 4; i++) assert.equal((await b3.login("Ann", "wrong again")).statusCode, 401);
    await b3.loggedIn("Ann", PASSWORD);
  });

  it("a change without the form's CSRF token is refused (403); without a session it goes to the login page; nothing changes", async () => {
    const anon = new Browser(app);
    await anon.get("/login");
    let r = await anon.post("/tokens/whatever/retire", { confirm: "yes" });
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers.location), /^\/login/);
    r = await anon.post("/login", { name: "Ann", password: PASSWORD }, null);
    assert.equal(r.statusCode, 403, "the login form needs its token too");

    const b = new Browser(app);
    await b.loggedIn("Ann", PASSWORD);
    const home = await b.get("/");
    const handle = /href="\/tokens\/([^"/]+)"/.exec(home.body)?.[1];
    assert.ok(handle);
    r = await b.post(`/tokens/${handle}/retire`, { confirm: "yes" }, null);
    assert.equal(r.statusCode, 403);
    assert.match(r.body, /form had expired/);
    r = await b.post(`/tokens/${handle}/retire`, { confirm: "yes" }, "forged-token");
    assert.equal(r.statusCode, 403);
    // Another session's token is no good either.
    const other = new Browser(app);
    await other.loggedIn("Ann", PASSWORD);
    await other.get("/");
    r = await b.post(`/tokens/${handle}/retire`, { confirm: "yes" }, other.csrf);
    assert.equal(r.statusCode, 403);
    assert.equal(kiosk.store.tokens().length, 1, "nothing was retired");
  });

  it("a session ends after the idle limit; background refreshes do not keep it alive", async () => {
    const b = new Browser(app);
    await b.loggedIn("Ann", PASSWORD);
    t += 500;
    assert.equal((await b.get("/")).statusCode, 200, "used within the limit: still in");
    t += 500;
    assert.equal((await b.get("/rows", { "x-dashboard-background": "1" })).statusCode, 200);
    t += 200;
    const r = await b.get("/");
    assert.equal(r.statusCode, 303, "700 s since the last person's request: logged out");
    assert.equal(r.headers.location, "/login?expired=1");
    assert.equal((await b.get("/rows", { "x-dashboard-background": "1" })).statusCode, 401);
  });

  it("kiosk init --staff makes the first account; staff add and passwd make more and lift a lock-out; a short password is refused", async () => {
    const saved = process.env[STAFF_PASSWORD_ENV];
    const dir = path.join(root, "cli");
    try {
      process.env[STAFF_PASSWORD_ENV] = "short";
      let r = await runCli(["kiosk", "init", "--dir", dir, "--staff", "Ann"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /at least 10 characters/);
      assert.ok(!fs.existsSync(dir), "nothing made for a refused password");
      process.env[STAFF_PASSWORD_ENV] = PASSWORD;
      r = await runCli(["kiosk", "init", "--dir", dir, "--staff", "Ann"]);
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(["kiosk", "staff", "add", "--dir", dir, "--staff", "Ben"]);
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(["kiosk", "staff", "add", "--dir", dir, "--staff", "Ben"]);
      assert.equal(r.code, 2);
      const open = (): KioskStore => KioskStore.open(path.join(dir, DB_FILE), readMasterKey(path.join(dir, MASTER_KEY_FILE)));
      let s = open();
      assert.deepEqual(s.staffNames(), ["Ann", "Ben"]);
      for (let i = 0; i < 5; i++) await s.checkLogin("Ben", "wrong password");
      assert.equal((await s.checkLogin("Ben", PASSWORD)).ok, false, "locked");
      s.close();
      process.env[STAFF_PASSWORD_ENV] = "a new long password";
      r = await runCli(["kiosk", "staff", "passwd", "--dir", dir, "--staff", "Ben"]);
      assert.equal(r.code, 0, r.stderr);
      s = open();
      assert.equal((await s.checkLogin("Ben", "a new long password")).ok, true, "the new password, and the lock lifted");
      s.close();
    } finally {
      if (saved === undefined) delete process.env[STAFF_PASSWORD_ENV];
      else process.env[STAFF_PASSWORD_ENV] = saved;
    }
  });
});
