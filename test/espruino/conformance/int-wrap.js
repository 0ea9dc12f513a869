t("or0", function () {
  return [2147483648 | 0, 4294967295 | 0, 4294967296 | 0, -1 | 0, 1.9 | 0, -1.9 | 0];
});
t("ushr0", function () {
  return [-1 >>> 0, (1 << 31) >>> 0, 4294967296 >>> 0, -2147483648 >>> 0];
});
t("shl", function () {
  return [1 << 31, 1 << 32, 1 << 33, 255 << 24, (255 << 24) >>> 0, 3 << -1];
});
t("shr", function () {
  return [-8 >> 1, 0x80000000 >> 31, 0x80000000 >>> 31, -1 >> 40];
});
t("sum-wrap", function () {
  var a = 0x7fffffff,
    b = 0x7fffffff;
  return [a + b, (a + b) | 0, (a + 1) | 0, (a + b) >>> 0];
});
t("mul", function () {
  return [(0xffffffff * 0xffffffff) | 0, (65536 * 65536) | 0, 123456789 * 1000];
});
t("xor", function () {
  return [0xdeadbeef ^ 0, (0xdeadbeef ^ 0) >>> 0, ~0, ~0 >>> 0, 0xffffffff & 0xff00];
});
t("rotl", function () {
  var x = 0x80000001;
  return ((x << 1) | (x >>> 31)) >>> 0;
});
t("big", function () {
  return [Math.pow(2, 53) + 1, 4294967296 * 4, 1e21 | 0, NaN | 0, Infinity | 0];
});
t("hex", function () {
  return [(255).toString(16), (-255).toString(16), (0xdeadbeef).toString(16), parseInt("ff", 16), parseInt("0x10")];
});
t("u32-store", function () {
  var u = new Uint32Array(1);
  u[0] = -1;
  var i = new Int32Array(1);
  i[0] = 0xffffffff;
  return [u[0], i[0]];
});
t("float-fmt", function () {
  return [0.1 + 0.2, 1 / 3, 1e21, 1e-7, 123456789012, -0];
});
t("toFixed", function () {
  return [(1.005).toFixed(2), (2.5).toFixed(0), (1234.5678).toFixed(1)];
});
done();
