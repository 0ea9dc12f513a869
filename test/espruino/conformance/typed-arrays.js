t("ctor-len", function () {
  return new Uint8Array(3);
});
t("ctor-arr", function () {
  return new Uint8Array([1, 2, 300, -1]);
});
t("ctor-i8", function () {
  return new Int8Array([127, 128, 255, -129]);
});
t("ctor-u16", function () {
  return new Uint16Array([65536, 65537, -1]);
});
t("ctor-i32", function () {
  return new Int32Array([2147483648, -2147483649]);
});
t("ctor-clamped", function () {
  return new Uint8ClampedArray([300, -5, 1.5, 2.5]);
});
t("ctor-f32", function () {
  return new Float32Array([0.5, 1e40]);
});
t("ctor-buf", function () {
  var b = new ArrayBuffer(8);
  var u = new Uint8Array(b, 2, 4);
  u[0] = 9;
  return [new Uint8Array(b), u.length, u.byteOffset];
});
t("ctor-u8-from-u16", function () {
  return new Uint8Array(new Uint16Array([258, 3]));
});
t("u16-view", function () {
  var u = new Uint8Array([1, 2, 3, 4]);
  return new Uint16Array(u.buffer);
});
t("set", function () {
  var u = new Uint8Array(5);
  u.set([1, 2], 1);
  u.set(new Uint8Array([7]), 4);
  return u;
});
t("set-overflow", function () {
  var u = new Uint8Array(2);
  u.set([1, 2, 3]);
  return u;
});
t("set-offset-overflow", function () {
  var u = new Uint8Array(2);
  u.set([1], 2);
  return u;
});
t("set-neg-offset", function () {
  var u = new Uint8Array(3);
  u.set([1, 2], -1);
  return u;
});
t("set-typed-overflow", function () {
  var u = new Uint8Array(2);
  u.set(new Uint8Array([4, 5, 6]), 1);
  return u;
});
t("ctor-static", function () {
  return [typeof Uint8Array.BYTES_PER_ELEMENT, typeof ArrayBuffer.prototype.slice];
});
t("subarray", function () {
  var u = new Uint8Array([1, 2, 3, 4, 5]);
  var s = u.subarray(1, 3);
  s[0] = 9;
  return [s, u];
});
t("subarray-neg", function () {
  return new Uint8Array([1, 2, 3, 4, 5]).subarray(-2);
});
t("subarray-none", function () {
  return new Uint8Array([1, 2, 3]).subarray(2, 1);
});
t("slice", function () {
  return new Uint8Array([1, 2, 3, 4]).slice(1, 3);
});
t("slice-is-array", function () {
  var s = new Uint8Array([1, 2, 3]).slice(1);
  return [s instanceof Array, s instanceof Uint8Array, typeof s.subarray];
});
t("slice-neg", function () {
  return new Uint8Array([1, 2, 3, 4]).slice(-2);
});
t("slice-copy", function () {
  var u = new Uint8Array([1, 2, 3]);
  var s = u.slice();
  s[0] = 9;
  return [u, s];
});
t("fill", function () {
  var u = new Uint8Array(4);
  u.fill(7);
  return u;
});
t("fill-range", function () {
  var u = new Uint8Array(5);
  u.fill(1, 1, 3);
  return u;
});
t("fill-neg", function () {
  var u = new Uint8Array(5);
  u.fill(2, -2);
  return u;
});
t("indexOf", function () {
  var u = new Uint8Array([5, 6, 7, 6]);
  return [u.indexOf(6), u.indexOf(9), u.indexOf(6, 2)];
});
t("read-oob", function () {
  return new Uint8Array(2)[5];
});
t("read-len", function () {
  return new Uint8Array(2)[2];
});
t("read-neg", function () {
  return new Uint8Array(2)[-1];
});
t("read-neg-var", function () {
  var u = new Uint8Array(2),
    i = -15;
  return u[i];
});
t("write-oob", function () {
  var u = new Uint8Array(2);
  u[5] = 1;
  return [u, u.length, u[5]];
});
t("write-neg", function () {
  var u = new Uint8Array(2);
  u[-1] = 1;
  return u;
});
t("write-float", function () {
  var u = new Uint8Array(2);
  u[0] = 3.7;
  u[1] = -3.7;
  return u;
});
t("join", function () {
  return new Uint8Array([1, 2, 3]).join("-");
});
t("map", function () {
  var m = new Uint8Array([1, 2]).map(function (x) {
    return x * 200;
  });
  return [m, tname(m)];
});
t("forEach", function () {
  var s = 0;
  new Uint8Array([1, 2, 3]).forEach(function (x) {
    s += x;
  });
  return s;
});
t("reverse", function () {
  return new Uint8Array([1, 2, 3]).reverse();
});
t("sort", function () {
  return new Uint8Array([3, 1, 2]).sort();
});
t("for-of", function () {
  var s = [];
  for (var x of new Uint8Array([4, 5])) s.push(x);
  return s;
});
t("byteLength", function () {
  var u = new Uint32Array(3);
  return [u.byteLength, u.buffer.byteLength, u.BYTES_PER_ELEMENT];
});
t("dataview", function () {
  var dv = new DataView(new ArrayBuffer(4));
  dv.setUint16(0, 0x1234);
  dv.setUint16(2, 0x1234, true);
  return [new Uint8Array(dv.buffer), dv.getUint32(0), dv.getInt8(0)];
});
t("ab-slice", function () {
  var b = new Uint8Array([1, 2, 3]).buffer.slice(1);
  return [b instanceof ArrayBuffer, new Uint8Array(b)];
});
t("concat-array", function () {
  return [1].concat(new Uint8Array([2, 3]));
});
done();
