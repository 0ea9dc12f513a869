var S = require("Storage");
var f0 = S.getFree();
t("list-empty", function () {
  return S.list();
});
t("read-missing", function () {
  return S.read("nope");
});
t("readAB-missing", function () {
  return S.readArrayBuffer("nope");
});
t("readJSON-missing", function () {
  return S.readJSON("nope", true);
});
t("write", function () {
  return S.write("a", "hello");
});
t("read", function () {
  return [S.read("a"), typeof S.read("a")];
});
t("free-after-write", function () {
  return f0 - S.getFree();
});
t("sized-write", function () {
  return S.write("b", "xy", 0, 8);
});
t("sized-read", function () {
  return S.read("b");
});
t("offset-write", function () {
  return S.write("b", "zz", 4);
});
t("offset-read", function () {
  return S.read("b");
});
t("overwrite-written", function () {
  return S.write("b", "qq", 0 + 4);
});
t("offset-past-end", function () {
  return S.write("b", "abcdef", 6);
});
t("readAB", function () {
  var b = S.readArrayBuffer("b");
  return [b instanceof ArrayBuffer, new Uint8Array(b)];
});
t("ff-bytes", function () {
  S.write("c", new Uint8Array([0, 255, 1, 255]));
  return new Uint8Array(S.readArrayBuffer("c"));
});
t("ff-tail", function () {
  S.write("c2", new Uint8Array([1, 255, 255]));
  return [S.read("c2").length, new Uint8Array(S.readArrayBuffer("c2"))];
});
t("write-u8", function () {
  S.write("u", new Uint8Array([1, 2, 3]), 0, 6);
  return S.read("u", 1, 4).length;
});
t("read-range", function () {
  return [S.read("a", 1, 3), S.read("a", 3)];
});
t("json", function () {
  S.writeJSON("j", { a: [1, 2], b: "x" });
  return [S.read("j"), S.readJSON("j")];
});
t("list", function () {
  return S.list().sort();
});
t("list-re", function () {
  return S.list(/^c/).sort();
});
t("erase", function () {
  var f1 = S.getFree();
  S.erase("a");
  return [S.read("a"), S.getFree() - f1, S.list().indexOf("a")];
});
t("erase-missing", function () {
  return S.erase("nope");
});
t("compact", function () {
  var f1 = S.getFree();
  S.compact();
  return S.getFree() > f1;
});
t("long-name", function () {
  S.write("abcdefghijabcdefghijabcdefghij", "x");
  return S.list(/^abcdefghij/);
});
t("too-big", function () {
  return S.write("big", "x", 0, f0 + 4096);
});
t("too-big-list", function () {
  return S.list().indexOf("big");
});
t("empty-write", function () {
  return [S.write("e", ""), S.read("e")];
});
t("stats", function () {
  var s = S.getStats();
  return [typeof s.totalBytes, typeof s.freeBytes, typeof s.fileCount];
});
t("sf", function () {
  var f = S.open("log", "w");
  f.write("ab\n");
  f.write("cd\n");
  var r = S.open("log", "r");
  return [r.readLine(), r.readLine(), r.readLine(), S.list(/log/), S.list(/log/, { sf: true })];
});
t("sf-ff", function () {
  var f = S.open("lf", "w");
  f.write("a\xffb");
  return S.open("lf", "r").read(10);
});
t("eraseAll", function () {
  S.eraseAll();
  return [S.list(), S.getFree() == f0];
});
done();
