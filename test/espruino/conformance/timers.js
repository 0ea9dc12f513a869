var log = [];
setTimeout(function () { log.push("t10"); }, 10);
setTimeout(function () { log.push("t0"); }, 0);
setTimeout(function () { log.push("t0b"); }, 0);
var cancelled = setTimeout(function () { log.push("cancelled"); }, 5);
clearTimeout(cancelled);
t("id-type", function () { return typeof cancelled; });
var n = 0;
var iv = setInterval(function () { n++; log.push("iv" + n); if (n == 3) clearInterval(iv); }, 20);
setTimeout(function (a, b) { log.push("args" + a + b); }, 30, 1, 2);
t("clear-unknown", function () { clearTimeout(12345); return "ok"; });
log.push("sync");
setTimeout(function () {
  t("order", function () { return log; });
  done();
}, 200);
