import { strict as assert } from "node:assert";
import { ERASE_ENDURANCE_CYCLES, EspruinoStorage, Flash } from "../../../host-tools/src/sim/espruino";
import { ev, rig } from "./helpers";
import { loadBoard } from "../../../host-tools/src/build/boards";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const fresh = (size = 40960): EspruinoStorage => new EspruinoStorage(new Flash(size, 4096));

describe("sim Espruino Storage", () => {
  it("a file takes a 32-byte header plus its data padded to 4 bytes", () => {
    const s = fresh();
    s.write("a", bytes("hello"));
    assert.deepEqual(s.getStats(), { totalBytes: 40960, freeBytes: 40960 - 40, fileBytes: 40, fileCount: 1, trashBytes: 0, trashCount: 0 });
    assert.equal(s.getFree(), 40960 - 40);
  });

  it("capacity is the board's Storage; a shared Storage models only the log's slice", () => {
    assert.equal(rig("", { board: "puckjs" }).token.storage.capacity, 40960);
    assert.equal(rig("", { board: "pixljs" }).token.storage.capacity, 36864);
    assert.equal(rig("", { board: "banglejs2" }).token.storage.capacity, loadBoard("banglejs2").storage.dataBytes);
  });

  it("the firmware itself is stored as .bootcde and takes Storage space", () => {
    const code = "var x=1;".repeat(100);
    const r = rig(code);
    assert.deepEqual(ev(r, 'require("Storage").list()'), [".bootcde"]);
    assert.equal(r.token.storage.getFree(), 40960 - 32 - code.length);
  });

  it("erase leaves garbage until compact", () => {
    const s = fresh();
    s.write("a", new Uint8Array(100));
    s.write("b", new Uint8Array(100));
    const freeBefore = s.getFree();
    s.erase("a");
    assert.equal(s.read("a"), undefined);
    assert.equal(s.getFree(), freeBefore, "erasing frees nothing yet");
    assert.equal(s.getStats().trashBytes, 132);
    s.compact();
    assert.equal(s.getStats().trashBytes, 0);
    assert.equal(s.getFree(), freeBefore + 132);
    assert.deepEqual(s.read("b"), new Uint8Array(100));
  });

  it("replacing a file leaves the old copy as garbage", () => {
    const s = fresh();
    s.write("a", bytes("one"));
    s.write("a", bytes("two"));
    assert.deepEqual(s.read("a"), bytes("two"));
    assert.equal(s.getStats().trashCount, 1);
  });

  it("writing identical content again writes nothing", () => {
    const s = fresh();
    s.write("a", bytes("same"));
    const written = s.flash.bytesWritten;
    s.write("a", bytes("same"));
    assert.equal(s.flash.bytesWritten, written);
    assert.equal(s.getStats().trashCount, 0);
  });

  it("a fixed-size file reads 0xFF where nothing was written yet", () => {
    const s = fresh();
    s.write("rec", bytes("AB"), 0, 8);
    s.write("rec", bytes("CD"), 4);
    assert.deepEqual(Array.from(s.read("rec")!), [65, 66, 255, 255, 67, 68, 255, 255]);
    assert.equal(s.getStats().fileCount, 1);
  });

  it("writing at an offset over bytes already written throws File already written with different data", () => {
    const r = rig("");
    r.token.evaluate('require("Storage").write("rec", "AB", 0, 8)');
    assert.throws(() => r.token.evaluate('require("Storage").write("rec", "XY", 1)'), /File already written with different data/);
  });

  it("writing at offset 0 over a written fixed-size file replaces the whole file", () => {
    const s = fresh();
    s.write("rec", bytes("AB"), 0, 8);
    s.write("rec", bytes("Z"), 0);
    assert.deepEqual(s.read("rec"), bytes("Z"));
    assert.equal(s.getStats().trashCount, 1);
  });

  it("writing at an offset beyond the file size throws Too much data for file size", () => {
    const s = fresh();
    s.write("rec", bytes("AB"), 0, 4);
    assert.throws(() => s.write("rec", bytes("xyz"), 2), /Too much data for file size/);
  });

  it("a write that does not fit throws Unable to find or create file", () => {
    const r = rig("", { board: "pixljs" });
    const free = r.token.storage.getFree();
    assert.throws(
      () => r.token.evaluate(`require("Storage").write("big", new Uint8Array(${free}))`),
      (e: Error) => e.message === "Unable to find or create file" && e.constructor.name === "Error"
    );
    assert.equal(r.token.evaluate('require("Storage").read("big")'), undefined);
  });

  it("a write that does not fit compacts first, and succeeds if garbage made the room", () => {
    const s = fresh(16384);
    s.write("a", new Uint8Array(10000));
    s.erase("a");
    s.write("b", new Uint8Array(10000));
    assert.equal(s.getStats().trashCount, 0, "compaction ran");
    assert.equal(s.read("b")!.length, 10000);
  });

  it("names longer than 28 characters are cut to 28", () => {
    const s = fresh();
    s.write("abcdefghijklmnopqrstuvwxyz0123", bytes("x"));
    assert.deepEqual(s.list(), ["abcdefghijklmnopqrstuvwxyz01"]);
    assert.deepEqual(s.read("abcdefghijklmnopqrstuvwxyz01"), bytes("x"));
  });

  it("list filters names with a regular expression", () => {
    const r = rig("");
    r.token.evaluate('var S=require("Storage"); S.write("log.1","a"); S.write("log.2","b"); S.write("cfg","c")');
    assert.deepEqual(ev(r, "S.list(/^log/)"), ["log.1", "log.2"]);
  });

  it("writeJSON and readJSON round-trip; readJSON(name, true) swallows bad JSON", () => {
    const r = rig("");
    assert.deepEqual(ev(r, 'var S=require("Storage"); S.writeJSON("j",{a:[1,2]}); S.readJSON("j")'), { a: [1, 2] });
    r.token.evaluate('S.write("bad","{")');
    assert.equal(r.token.evaluate('S.readJSON("bad", true)'), undefined);
    assert.throws(() => r.token.evaluate('S.readJSON("bad")'));
  });

  it("readArrayBuffer returns the file's bytes", () => {
    const r = rig("");
    const v = ev(
      r,
      'require("Storage").write("b",[1,2,255]); Array.prototype.slice.call(new Uint8Array(require("Storage").readArrayBuffer("b")))'
    );
    assert.deepEqual(v, [1, 2, 255]);
  });

  it("StorageFile stores text in chunks named name\\1, name\\2… of a page minus the header", () => {
    const r = rig("");
    r.token.evaluate('var f=require("Storage").open("log","w"); f.write(new Array(2501).join("x")); f.write(new Array(2501).join("y"))');
    assert.deepEqual(ev(r, 'require("Storage").list(/^log/)'), ["log\u0001"]);
    assert.deepEqual(ev(r, 'require("Storage").list(/^log/, {sf:true})'), ["log"]);
    assert.equal(r.token.storage.locate("log\u0001")!.size, 4064);
    assert.ok(r.token.storage.locate("log\u0002"));
    assert.equal(r.token.evaluate('require("Storage").open("log","r").getLength()'), 5000);
  });

  it("StorageFile cannot store 0xFF: reading stops there", () => {
    const r = rig("");
    r.token.evaluate('var f=require("Storage").open("t","w"); f.write("ab\\xFFcd")');
    assert.equal(r.token.evaluate('require("Storage").open("t","r").read(10)'), "ab");
  });

  it("StorageFile appends across opens and reads back line by line", () => {
    const r = rig("");
    r.token.evaluate('var S=require("Storage"); S.open("t","w").write("one\\n"); S.open("t","a").write("two\\n")');
    assert.deepEqual(ev(r, 'var f=S.open("t","r"); [f.readLine(), f.readLine(), f.readLine()]'), ["one\n", "two\n", undefined]);
  });

  it("flash programming can only clear bits", () => {
    const f = new Flash(4096, 4096);
    f.program(0, new Uint8Array([0x0f]));
    f.program(0, new Uint8Array([0xf0]));
    assert.equal(f.bytes[0], 0x00);
    assert.equal(f.bitConflicts, 1);
  });

  it("compaction erases pages and the erases are counted against the 10,000-cycle endurance", () => {
    const s = fresh(16384);
    for (let i = 0; i < 20; i++) {
      s.write("a", new Uint8Array(3000).fill(i));
      s.compact();
    }
    const w = s.flash.wear();
    assert.ok(w.totalPageErases >= 20, String(w.totalPageErases));
    assert.equal(w.pageErases[0], 19, "page 0 is erased by every compaction that found garbage");
    assert.equal(ERASE_ENDURANCE_CYCLES, 10000);
    assert.equal(w.wornOutPages, 0);
  });
});

describe("sim Espruino power cuts", () => {
  it("a power cut at a chosen byte keeps exactly the bytes before it, and the token is off until boot", () => {
    const r = rig("");
    const free0 = r.token.storage.getFree();
    r.token.cutAfterBytes(32 + 3);
    assert.throws(() => r.token.evaluate('require("Storage").write("f","ABCDEFGH")'), /power cut/);
    assert.equal(r.token.alive, false);
    assert.deepEqual(r.radio.advert, null, "nothing on the air");
    r.token.boot();
    assert.equal(r.token.evaluate('require("Storage").read("f")'), "ABC\xff\xff\xff\xff\xff");
    assert.equal(r.token.storage.getFree(), free0 - 40);
  });

  it("a cut inside a file header leaves Storage corrupt, and the next boot wipes it", () => {
    const r = rig("print('booted')");
    r.token.evaluate('require("Storage").write("keep","1")');
    r.token.cutAfterBytes(2);
    assert.throws(() => r.token.evaluate('require("Storage").write("f","ABCDEFGH")'));
    assert.equal(r.token.storage.isValid(), false);
    r.token.boot();
    assert.ok(r.token.output.includes("Storage is corrupt."));
    assert.deepEqual(r.token.storage.list(), [], "the firmware (.bootcde) is gone too");
    assert.ok(!r.token.output.slice(-1).includes("booted"));
  });

  it("flash content survives powerCut() and boot()", () => {
    const r = rig("");
    r.token.evaluate('require("Storage").write("k","v")');
    r.token.powerCut();
    r.token.boot();
    assert.equal(r.token.evaluate('require("Storage").read("k")'), "v");
  });

  it("a flash kept outside the token carries its files into a new token", () => {
    const a = rig("");
    a.token.evaluate('require("Storage").write("k","v")');
    const b = rig("", { storage: a.token.flash });
    assert.equal(b.token.evaluate('require("Storage").read("k")'), "v");
  });
});
