t("call-undefined", function () {
  var o = {};
  o.nope();
});
t("call-undefined-var", function () {
  var f;
  f();
});
t("call-number", function () {
  var x = 5;
  x();
});
t("read-undefined", function () {
  var u;
  return u.x;
});
t("read-null", function () {
  var u = null;
  return u.x;
});
t("write-undefined", function () {
  var u;
  u.x = 1;
});
t("undeclared", function () {
  return notDeclaredAnywhere;
});
t("new-error", function () {
  throw new Error("boom");
});
t("error-props", function () {
  var e = new Error("m");
  return [e.message, e.name, String(e), e instanceof Error];
});
t("type-error", function () {
  var e = new TypeError("tt");
  return [e.name, e.message, e instanceof Error];
});
t("throw-string", function () {
  throw "str";
});
t("throw-obj", function () {
  throw { message: "obj" };
});
t("catch-name", function () {
  try {
    null.x;
  } catch (e) {
    return [e.name, e instanceof TypeError];
  }
});
t("finally", function () {
  var s = [];
  try {
    try {
      throw new Error("x");
    } finally {
      s.push("f");
    }
  } catch (e) {
    s.push(e.message);
  }
  return s;
});
t("range", function () {
  return new Array(-1);
});
t("stack-overflow-free", function () {
  function r(n) {
    return n ? r(n - 1) : 0;
  }
  return r(50);
});
done();
