t("u8", function () {
  return JSON.stringify(new Uint8Array([1, 2, 3]));
});
t("u8-in-obj", function () {
  return JSON.stringify({ a: new Uint8Array([1]), b: new Int16Array([-1]) });
});
t("arraybuffer", function () {
  return JSON.stringify(new Uint8Array([1, 2]).buffer);
});
t("undefined-prop", function () {
  return JSON.stringify({ a: undefined, b: 1 });
});
t("undefined-arr", function () {
  return JSON.stringify([undefined, function () {}, 1]);
});
t("undefined-top", function () {
  return JSON.stringify(undefined);
});
t("nested", function () {
  return JSON.stringify({ a: [1, { b: [2, [3]] }], c: { d: null } });
});
t("indent", function () {
  return JSON.stringify({ a: [1, 2], b: { c: 1 } }, null, 2);
});
t("special-num", function () {
  return JSON.stringify([NaN, Infinity, -0, 1e21, 0.1]);
});
t("string-esc", function () {
  return JSON.stringify('a"b\\c\n\x01\xff');
});
t("string-esc-high", function () {
  return JSON.stringify("\x7f\x80\x1f\t");
});
t("function-top", function () {
  return JSON.stringify(function () {});
});
t("replacer", function () {
  return JSON.stringify({ a: 1, b: new Uint8Array([2]) }, function (k, v) {
    return k === "a" ? 5 : v;
  });
});
t("parse", function () {
  return JSON.parse('{"a":[1,2,{"b":null}],"c":"x","d":true}');
});
t("parse-bad", function () {
  return JSON.parse("{a:1}");
});
t("parse-trailing", function () {
  return JSON.parse("[1,2,]");
});
t("parse-num", function () {
  return [JSON.parse("1e3"), JSON.parse("-0.5"), JSON.parse('"\\u0041"')];
});
t("date", function () {
  return typeof JSON.stringify(new Date(0));
});
t("toJSON", function () {
  return JSON.stringify({
    toJSON: function () {
      return 5;
    }
  });
});
t("key-order", function () {
  var o = { b: 1, a: 2 };
  o[1] = 3;
  return JSON.stringify(o);
});
done();
