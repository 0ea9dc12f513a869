// Shared by every conformance program (prepended by conformance.spec.ts).
// d(v) describes a value without relying on JSON.stringify or toString, so a
// difference shows up in the topic that tests it and nowhere else.
function tname(v) {
  var T = [
    ["U8", Uint8Array],
    ["I8", Int8Array],
    ["U8C", Uint8ClampedArray],
    ["U16", Uint16Array],
    ["I16", Int16Array],
    ["U32", Uint32Array],
    ["I32", Int32Array],
    ["F32", Float32Array],
    ["F64", Float64Array]
  ];
  for (var i = 0; i < T.length; i++) if (v instanceof T[i][1]) return T[i][0];
  return "";
}
function ds(s) {
  var o = "";
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    o += c < 32 || c > 126 || c == 34 || c == 92 ? "\\" + c + ";" : s[i];
  }
  return '"' + o + '"';
}
function d(v) {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  var t = typeof v,
    s,
    i;
  if (t === "string") return ds(v);
  if (t === "number" || t === "boolean") return String(v);
  if (t === "function") return "function";
  if (v instanceof Array) {
    s = "[";
    for (i = 0; i < v.length; i++) s += (i ? "," : "") + d(v[i]);
    return s + "]";
  }
  if (v instanceof ArrayBuffer) return "AB" + d(new Uint8Array(v)).substr(2);
  var n = tname(v);
  if (n) {
    s = n + "[";
    for (i = 0; i < v.length; i++) s += (i ? "," : "") + d(v[i]);
    return s + "]";
  }
  if (v instanceof Error) return "Error(" + ds(String(v.message)) + ")";
  var ks = Object.keys(v);
  s = "{";
  for (i = 0; i < ks.length; i++) s += (i ? "," : "") + ks[i] + ":" + d(v[ks[i]]);
  return s + "}";
}
function t(k, f) {
  var r;
  try {
    r = "= " + d(f());
  } catch (e) {
    r = "! " + (e && e.message !== undefined ? e.message : String(e));
  }
  print("@" + k + " " + r);
}
function done() {
  print("@END");
  quit();
}
