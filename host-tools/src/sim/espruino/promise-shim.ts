/**
 * Espruino runs promise reactions from its own event queue. V8's native
 * Promise would run them on the host's microtask queue, i.e. only after the
 * whole simulation step returns, at the wrong virtual time. So each boot
 * gets this small Promise (ES5, evaluated inside the token's realm) whose
 * reactions are queued on the scheduler at the current time.
 */
export const PROMISE_SHIM = `(function (defer) {
  function P(executor) {
    var self = this;
    self._s = 0; self._v = undefined; self._q = [];
    function run(h) {
      defer(function () {
        var cb = self._s === 1 ? h.f : h.r;
        if (typeof cb !== "function") { (self._s === 1 ? h.res : h.rej)(self._v); return; }
        var out;
        try { out = cb(self._v); } catch (e) { h.rej(e); return; }
        h.res(out);
      });
    }
    function settle(s, v) {
      if (self._s) return;
      if (s === 1 && v && typeof v.then === "function") {
        v.then(function (x) { settle(1, x); }, function (e) { settle(2, e); });
        return;
      }
      self._s = s; self._v = v;
      var q = self._q; self._q = [];
      for (var i = 0; i < q.length; i++) run(q[i]);
    }
    self._run = run;
    try { executor(function (v) { settle(1, v); }, function (e) { settle(2, e); }); } catch (e) { settle(2, e); }
  }
  P.prototype.then = function (f, r) {
    var self = this;
    return new P(function (res, rej) {
      var h = { f: f, r: r, res: res, rej: rej };
      if (self._s) self._run(h); else self._q.push(h);
    });
  };
  P.prototype["catch"] = function (r) { return this.then(undefined, r); };
  P.resolve = function (v) { return new P(function (res) { res(v); }); };
  P.reject = function (e) { return new P(function (res, rej) { rej(e); }); };
  P.all = function (a) {
    return new P(function (res, rej) {
      var out = [], n = a.length;
      if (!n) { res(out); return; }
      for (var i = 0; i < a.length; i++) (function (i) {
        P.resolve(a[i]).then(function (v) { out[i] = v; if (--n === 0) res(out); }, rej);
      })(i);
    });
  };
  return P;
})`;
