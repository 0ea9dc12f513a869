t("fromCharCode", function () {
  return [
    String.fromCharCode(65, 66).length,
    String.fromCharCode(300).charCodeAt(0),
    String.fromCharCode(256).charCodeAt(0),
    String.fromCharCode(-1).charCodeAt(0)
  ];
});
t("fromCharCode-args", function () {
  return [String.fromCharCode(65.7).charCodeAt(0), String.fromCharCode("66"), String.fromCharCode(), String.fromCharCode(0x141, 0x142)];
});
t("fromCharCode-255", function () {
  return String.fromCharCode(255, 128, 0);
});
t("charCodeAt", function () {
  var s = "A\xff";
  return [s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(5), s.charCodeAt(-1)];
});
t("char-index", function () {
  return ["abc"[1], "abc"[5], "abc".charAt(5)];
});
t("btoa", function () {
  return typeof btoa === "function" ? [btoa("hello"), btoa("\xff\x00\x80"), btoa("")] : "absent";
});
t("atob", function () {
  return typeof atob === "function" ? [atob("aGVsbG8="), atob("/wCA").charCodeAt(0)] : "absent";
});
t("btoa-roundtrip", function () {
  var s = "";
  for (var i = 0; i < 256; i += 7) s += String.fromCharCode(i);
  return [btoa(s), atob(btoa(s)) === s, btoa("a"), btoa("ab")];
});
t("atob-bad", function () {
  return atob("!!!");
});
t("u8-from-string", function () {
  var s = "\x01\xff",
    u = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
});
t("string-from-u8", function () {
  return String.fromCharCode.apply(null, new Uint8Array([104, 105, 200]));
});
t("E.toString", function () {
  return E.toString(new Uint8Array([104, 105, 255]));
});
t("E.toUint8Array", function () {
  return E.toUint8Array("hi", [1, 2], 3);
});
t("split-join", function () {
  return ["a,b,,c".split(","), "abc".split(""), [1, null, undefined, 2].join()];
});
t("pad-repeat", function () {
  return [typeof "".padStart, typeof "".repeat, "ab".indexOf("b"), "abc".substr(-2), "abc".substring(2, 0)];
});
t("toUpper", function () {
  return ["aB".toUpperCase(), "aB".toLowerCase(), " x ".trim()];
});
t("num-to-str", function () {
  return ["" + 1.5, "" + 100, String(-0), "" + 1e300 * 10, (12).toString(2)];
});
t("template", function () {
  var x = 3;
  return `x=${x}!`;
});
done();
