var C = require("crypto");
function hex(b) {
  var u = new Uint8Array(b),
    s = "";
  for (var i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
  return s;
}
t("has", function () {
  return [typeof C.SHA1, typeof C.SHA256, typeof C.SHA512, typeof C.AES];
});
t("sha1", function () {
  var h = C.SHA1("abc");
  return [h instanceof ArrayBuffer, hex(h)];
});
t("sha1-u8", function () {
  return hex(C.SHA1(new Uint8Array([97, 98, 99])));
});
t("sha256", function () {
  return hex(C.SHA256("abc"));
});
t("sha512", function () {
  return hex(C.SHA512("abc")).substr(0, 32);
});
t("aes-ecb", function () {
  var k = new Uint8Array(16);
  return hex(C.AES.encrypt(new Uint8Array(16), k, { mode: "ECB" }));
});
t("aes-ctr-iv", function () {
  var k = new Uint8Array(16),
    iv = new Uint8Array(16);
  iv[15] = 5;
  return hex(C.AES.encrypt(new Uint8Array(16), k, { mode: "CTR", iv: iv }));
});
t("aes-dec", function () {
  var k = new Uint8Array(16);
  return hex(C.AES.decrypt(C.AES.encrypt("0123456789abcdef", k, { mode: "ECB" }), k, { mode: "ECB" }));
});
done();
