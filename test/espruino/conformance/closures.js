t("let-loop", function () {
  var fs = [];
  for (let i = 0; i < 3; i++)
    fs.push(function () {
      return i;
    });
  return fs.map(function (f) {
    return f();
  });
});
t("let-for-of", function () {
  var fs = [];
  for (let x of [1, 2, 3])
    fs.push(function () {
      return x;
    });
  return fs.map(function (f) {
    return f();
  });
});
t("const-for-of", function () {
  var fs = [];
  for (const x of [1, 2, 3])
    fs.push(function () {
      return x;
    });
  return fs.map(function (f) {
    return f();
  });
});
t("let-for-in", function () {
  var fs = [];
  for (let k in { a: 1, b: 2 })
    fs.push(function () {
      return k;
    });
  return fs.map(function (f) {
    return f();
  });
});
t("let-in-body", function () {
  var fs = [];
  for (var i = 0; i < 3; i++) {
    let y = i;
    fs.push(function () {
      return y;
    });
  }
  return fs.map(function (f) {
    return f();
  });
});
t("var-loop", function () {
  var fs = [];
  for (var i = 0; i < 3; i++)
    fs.push(function () {
      return i;
    });
  return fs.map(function (f) {
    return f();
  });
});
t("iife-loop", function () {
  var fs = [];
  for (var i = 0; i < 3; i++)
    fs.push(
      (function (j) {
        return function () {
          return j;
        };
      })(i)
    );
  return fs.map(function (f) {
    return f();
  });
});
t("let-block", function () {
  let x = 1;
  {
    let x = 2;
  }
  return x;
});
t("const-assign", function () {
  const c = 1;
  c = 2;
  return c;
});
t("counter", function () {
  function mk() {
    var n = 0;
    return function () {
      return ++n;
    };
  }
  var a = mk(),
    b = mk();
  a();
  a();
  return [a(), b()];
});
t("arrow-this", function () {
  var o = {
    v: 7,
    f: function () {
      return (() => this.v)();
    }
  };
  return o.f();
});
t("class", function () {
  class A {
    constructor(x) {
      this.x = x;
    }
    get dbl() {
      return this.x * 2;
    }
    static k() {
      return "k";
    }
  }
  class B extends A {
    constructor() {
      super(4);
    }
  }
  var b = new B();
  return [b.x, b.dbl, A.k(), b instanceof A];
});
t("arguments", function () {
  function f() {
    return arguments.length;
  }
  return [f(), f(1, 2)];
});
t("bind", function () {
  function f(a, b) {
    return this.v + a + b;
  }
  var g = f.bind({ v: 1 }, 2);
  return g(3);
});
t("for-in", function () {
  var o = { a: 1, b: 2 },
    k = [];
  for (var x in o) k.push(x);
  return k;
});
t("nullish", function () {
  var z = null;
  return [z ?? 5, 0 ?? 5];
});
done();
