t("hwRand", function () {
  var r = E.hwRand();
  return [typeof r, r === (r | 0), E.hwRand() !== r];
});
t("getSizeOf", function () {
  return typeof E.getSizeOf;
});
t("toUint8Array", function () {
  return E.toUint8Array([1, 256], "A", { data: 7, count: 2 });
});
t("getTime", function () {
  return [typeof getTime(), typeof Date.now()];
});
t("process.memory", function () {
  var m = process.memory();
  return [typeof m.usage, typeof m.total, typeof m.free];
});
t("process.env", function () {
  return typeof process.env;
});
t("require-unknown", function () {
  return require("nosuchmodule");
});
t("globals", function () {
  return [
    typeof Map,
    typeof Set,
    typeof Symbol,
    typeof Promise,
    typeof Array.from,
    typeof Object.freeze,
    typeof Object.assign,
    typeof Object.entries
  ];
});
t("promise", function () {
  var p = Promise.resolve(1);
  return [typeof p.then, p instanceof Promise];
});
done();
