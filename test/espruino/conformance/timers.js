var log = [];
setTimeout(function () {
  log.push("t50");
}, 50);
setTimeout(function () {
  log.push("t0");
}, 0);
setTimeout(function () {
  log.push("t0b");
}, 0);
var cancelled = setTimeout(function () {
  log.push("cancelled");
}, 5);
clearTimeout(cancelled);
t("id-type", function () {
  return typeof cancelled;
});
var n = 0;
// 50 ms apart at least: a busy host wakes the interpreter late, and Espruino
// runs timers that are all overdue out of due order (docs/simulator-espruino.md).
var iv = setInterval(function () {
  n++;
  log.push("iv" + n);
  if (n == 3) clearInterval(iv);
}, 100);
setTimeout(
  function (a, b) {
    log.push("args" + a + b);
  },
  150,
  1,
  2
);
t("clear-unknown", function () {
  clearTimeout(12345);
  return "ok";
});
log.push("sync");
setTimeout(function () {
  t("order", function () {
    return log;
  });
  done();
}, 500);
