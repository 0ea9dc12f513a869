t("floor", function () {
  return [Math.floor(-1.5), Math.floor(-0.5), Math.floor(1.5), Math.floor(-2)];
});
t("round", function () {
  return [Math.round(-1.5), Math.round(-0.5), Math.round(-2.5), Math.round(2.5), Math.round(0.49999)];
});
t("round-more", function () {
  return [Math.round(-0), Math.round(1.5), Math.round(-1.4), Math.round(-1.6), Math.round(0.5), Math.round("2.5"), Math.round(NaN)];
});
t("ceil", function () {
  return [Math.ceil(-1.5), Math.ceil(1.2)];
});
t("abs-sign", function () {
  return [Math.abs(-3), typeof Math.sign, typeof Math.trunc];
});
t("random", function () {
  var r = Math.random();
  return [typeof Math.random, typeof r, r >= 0 && r < 1];
});
t("minmax", function () {
  return [Math.min(1, -2, 3), Math.max(), Math.min(), Math.max(1, NaN)];
});
t("pow-sqrt", function () {
  return [Math.pow(2, 10), Math.pow(2, 0.5), Math.sqrt(16), Math.sqrt(-1)];
});
t("log-exp", function () {
  return [Math.log(1), Math.exp(0), Math.round((Math.log(100) / Math.LN10) * 1000)];
});
t("mod", function () {
  return [-7 % 3, 7 % -3, 5.5 % 2];
});
t("div0", function () {
  return [1 / 0, -1 / 0, 0 / 0];
});
t("parse", function () {
  return [parseInt("12px"), parseInt("x"), parseFloat("1.5e2x"), Number(""), Number("12a"), +"0x1f"];
});
t("isNaN", function () {
  return [isNaN("x"), isFinite("1"), typeof Number.isFinite, typeof Number.isNaN];
});
done();
