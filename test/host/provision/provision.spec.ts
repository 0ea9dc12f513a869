import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planFlash } from "../../../host-tools/src/build/flash-plan";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { UserError } from "../../../host-tools/src/errors";
import { StoreLockedError, UploadFailedError } from "../../../host-tools/src/provision/errors";
import { TEMP_DIR_PLACEHOLDER, formatArgv, formatResult } from "../../../host-tools/src/provision/plan";
import { ProvisionRequest, checkTarget, provisionToken } from "../../../host-tools/src/provision/provision";
import { openStore } from "../../../host-tools/src/provision/store";
import { SECRETS_BYTES, readSecrets } from "../../../firmware/src/wire/secrets";
import { runCli } from "../../helpers/cli";

const PASS = "correct horse battery staple";
const PORT = "c1:22:33:44:55:66";

/** Deterministic "random" bytes whose every value the specs can look for in output. */
function countingRandom(): { random: (n: number) => Uint8Array; drawn: Uint8Array[] } {
  let next = 0x37;
  const drawn: Uint8Array[] = [];
  return {
    drawn,
    random: (n) => {
      const b = new Uint8Array(n).map(() => (next = (next * 73 + 41) & 255));
      drawn.push(new Uint8Array(b));
      return b;
    }
  };
}

/** The argument that names pt.sec's file, and that file's path. */
function secretsArg(argv: string[]): string {
  const i = argv.findIndex((a) => a.startsWith("pt.sec:"));
  assert.ok(i > 0 && argv[i - 1] === "--storage", "pt.sec is a --storage file");
  return argv[i].slice("pt.sec:".length);
}

describe("privatetracer provision", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-provision-"));
  const bundle = path.join(dir, "puckjs.bootcde");
  // Pretokenised boot code is 8-bit: the upload must keep every byte.
  fs.writeFileSync(bundle, Buffer.from("print(1);\xd3\xff\x80", "latin1"));
  const tempParent = path.join(dir, "tmp");
  fs.mkdirSync(tempParent);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const request = (over: Partial<ProvisionRequest>): ProvisionRequest => ({
    board: "puckjs",
    port: PORT,
    label: "Room 12",
    store: path.join(dir, "home.ptstore"),
    dryRun: false,
    bundlePath: bundle,
    boardJsonDir: dir,
    tempParent,
    passphrase: async () => PASS,
    ...over
  });

  it("dry run: prints the command that would run and the masked layout, and writes nothing", async () => {
    const { random, drawn } = countingRandom();
    let asked = false;
    const store = path.join(dir, "dry.ptstore");
    const r = await provisionToken(
      request({
        store,
        dryRun: true,
        random,
        run: async () => assert.fail("a dry run ran the uploader"),
        passphrase: async () => {
          asked = true;
          return PASS;
        }
      })
    );
    assert.equal(asked, false, "a dry run needs no passphrase");
    assert.equal(fs.existsSync(store), false);
    assert.deepEqual(fs.readdirSync(tempParent), []);
    assert.equal(r.tokenId, null);
    const text = formatResult(r) + JSON.stringify(r);
    assert.ok(text.includes("sync secret: ••••••••(32 bytes)"));
    assert.ok(text.includes("home key: ••••••••(32 bytes)"));
    assert.match(text, /would be created with a new home key/);
    for (const b of drawn) {
      const buf = Buffer.from(b);
      for (const enc of [buf.toString("hex"), buf.toString("base64"), buf.subarray(0, 4).toString("hex")])
        assert.ok(!text.includes(enc), `secret bytes in the dry run's output (${enc})`);
    }

    // The printed command is what runs, but for the temporary directory, made only then.
    let ran: string[] = [];
    const real = await provisionToken(
      request({
        store: path.join(dir, "compare.ptstore"),
        run: async (argv) => {
          ran = argv;
          return 0;
        }
      })
    );
    const secretsPath = secretsArg(ran);
    const shown = ran.map((a) => a.replace(path.dirname(secretsPath), TEMP_DIR_PLACEHOLDER));
    assert.deepEqual(r.argv, shown);
    assert.equal(r.command, formatArgv(shown));
    assert.equal(real.command, r.command);
  });

  it("uploads the bundle and pt.sec in one uploader run, then enrols the token with those very secrets", async () => {
    const store = path.join(dir, "one.ptstore");
    let seen: { argv: string[]; bytes: Buffer; mode: number; dirMode: number } | undefined;
    const r = await provisionToken(
      request({
        store,
        run: async (argv) => {
          const p = secretsArg(argv);
          seen = { argv, bytes: fs.readFileSync(p), mode: fs.statSync(p).mode & 0o777, dirMode: fs.statSync(path.dirname(p)).mode & 0o777 };
          return 0;
        }
      })
    );
    assert.ok(seen);
    const flash = planFlash(loadBoard("puckjs"), bundle, PORT, { outDir: dir });
    const boot = flash.argv.indexOf(`.bootcde:${bundle}`) - 1;
    assert.deepEqual(seen.argv.slice(0, boot + 2), flash.argv.slice(0, boot + 2), "flash's own command, boot code included");
    assert.deepEqual(seen.argv.slice(boot + 2, boot + 4), ["--storage", `pt.sec:${secretsArg(seen.argv)}`]);
    assert.deepEqual(seen.argv.slice(boot + 4), flash.argv.slice(boot + 2), "then the rest of flash's command");
    assert.equal(seen.mode, 0o600);
    assert.equal(seen.dirMode, 0o700);
    assert.deepEqual(fs.readdirSync(tempParent), [], "the secrets file is gone");

    const sec = readSecrets(new Uint8Array(seen.bytes));
    assert.ok(sec, "a valid pt.sec was uploaded");
    const home = openStore(store, PASS);
    assert.ok(home);
    assert.equal(home.enrolments.length, 1);
    const e = home.enrolments[0];
    assert.equal(e.tokenId, r.tokenId);
    assert.equal(e.tokenId, Buffer.from(sec.tokenId).toString("hex"));
    assert.equal(e.syncSecret, Buffer.from(sec.syncSecret).toString("hex"));
    assert.ok(!("archiveSecret" in e), "the archive secret is not enrolled: it stays on the token");
    assert.ok(!JSON.stringify(home).includes(Buffer.from(sec.archiveSecret).toString("hex")), "not anywhere in the store");
    assert.equal(home.homeKey, Buffer.from(sec.homeKey).toString("hex"));
    assert.deepEqual([e.label, e.board], ["Room 12", "puckjs"]);

    // A second token of the same home: same home key, new everything else.
    let second: Buffer | undefined;
    await provisionToken(
      request({
        store,
        label: "Room 14",
        run: async (argv) => {
          second = fs.readFileSync(secretsArg(argv));
          return 0;
        }
      })
    );
    const sec2 = readSecrets(new Uint8Array(second ?? []));
    assert.ok(sec2);
    assert.equal(Buffer.from(sec2.homeKey).toString("hex"), home.homeKey);
    assert.notEqual(Buffer.from(sec2.syncSecret).toString("hex"), e.syncSecret);
    assert.equal(openStore(store, PASS)?.enrolments.length, 2);
  });

  it("a failing uploader: typed error, temp file removed, nothing recorded", async () => {
    const store = path.join(dir, "fail.ptstore");
    let p = "";
    await assert.rejects(
      provisionToken(
        request({
          store,
          run: async (argv) => {
            p = secretsArg(argv);
            assert.ok(fs.existsSync(p));
            return 1;
          }
        })
      ),
      (e: unknown) => e instanceof UploadFailedError && /nothing was recorded/.test(e.message)
    );
    assert.equal(fs.existsSync(p), false);
    assert.equal(fs.existsSync(path.dirname(p)), false);
    assert.equal(fs.existsSync(store), false);

    // An uploader that throws (it could not even start) cleans up just the same.
    await assert.rejects(
      provisionToken(
        request({
          store,
          run: async (argv) => {
            p = secretsArg(argv);
            throw new Error("spawn failed");
          }
        })
      ),
      /spawn failed/
    );
    assert.deepEqual(fs.readdirSync(tempParent), []);
    assert.equal(fs.existsSync(store), false);
  });

  it("a wrong passphrase stops before the token is touched, and the store is unchanged", async () => {
    const store = path.join(dir, "locked.ptstore");
    await provisionToken(request({ store, run: async () => 0 }));
    const before = fs.readFileSync(store);
    await assert.rejects(
      provisionToken(
        request({ store, passphrase: async () => "not the passphrase", run: async () => assert.fail("uploaded with a wrong passphrase") })
      ),
      StoreLockedError
    );
    assert.deepEqual(fs.readFileSync(store), before);
  });

  it("refuses bad boards, ports and labels before anything else", async () => {
    const bad = (board: string, port: string, label?: string): void =>
      assert.throws(
        () => checkTarget(board, port, label),
        (e: unknown) => e instanceof UserError && e.kind === "unusable"
      );
    bad("../package", PORT);
    bad("PuckJS!", PORT);
    bad("puckjs", "puck-1");
    bad("puckjs", "c1:22:33:44:55");
    bad("puckjs", PORT, "Room\n12");
    bad("puckjs", PORT, "x".repeat(65));
    assert.equal(checkTarget("puckjs", "/dev/ttyACM0", "  Room 12 "), "Room 12");
    // The early port check agrees with planFlash's own.
    for (const port of [PORT, "C1:22:33:44:55:66", "/dev/ttyUSB0", "puck-1", "c1-22-33-44-55-66", ""]) {
      let flashOk = true;
      try {
        planFlash(loadBoard("puckjs"), bundle, port, { outDir: dir });
      } catch {
        flashOk = false;
      }
      let ours = true;
      try {
        checkTarget("puckjs", port, undefined);
      } catch {
        ours = false;
      }
      assert.equal(ours, flashOk, port);
    }
    await assert.rejects(
      provisionToken(request({ board: "nosuchboard" })),
      (e: unknown) => e instanceof UserError && /unknown board/.test(e.message)
    );
    const cli = await runCli(["provision", "--board", "puckjs", "--port", "puck-1", "--dry-run"]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /neither a Bluetooth address/);
  });

  it("the real espruino uploader takes the command: pt.sec's bytes are written to Storage before the boot code", async () => {
    let out = "";
    await provisionToken(
      request({
        store: path.join(dir, "offline.ptstore"),
        run: async (argv) => {
          // Offline: no port, no clock; -o writes what would be sent to the token instead of sending it.
          const offline = argv.filter((a, i) => a !== "-t" && a !== "-p" && argv[i - 1] !== "-p");
          out = path.join(dir, "upload.js");
          const r = spawnSync(offline[0], [...offline.slice(1), "-o", out], { encoding: "utf8" });
          assert.equal(r.status, 0, r.stderr + r.stdout);
          return 0;
        }
      })
    );
    const js = fs.readFileSync(out, "utf8");
    const m = /require\("Storage"\)\.write\("pt\.sec",atob\("([^"]+)"\),0,(\d+)\)/.exec(js);
    assert.ok(m, js);
    assert.equal(Number(m[2]), SECRETS_BYTES);
    const sent = Buffer.from(m[1], "base64");
    const sec = readSecrets(new Uint8Array(sent));
    assert.ok(sec);
    assert.equal(Buffer.from(sec.tokenId).toString("hex"), openStore(path.join(dir, "offline.ptstore"), PASS)?.enrolments[0].tokenId);
    assert.ok(js.indexOf("pt.sec") < js.indexOf(".bootcde"), "secrets first, then the boot code");
    const boot = /require\("Storage"\)\.write\("\.bootcde",atob\("([^"]+)"\)/.exec(js);
    assert.ok(boot, js);
    assert.deepEqual(Buffer.from(boot[1], "base64"), fs.readFileSync(bundle), "the 8-bit boot code, byte for byte");
    assert.ok(js.trimEnd().endsWith("load()"), "then booted");
  });

  it("--help describes the command", async () => {
    const r = await runCli(["provision", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--dry-run/);
    assert.match(r.stdout, /--store <file>/);
  });
});
