// CPU factor benchmark (ES5, runs on the Espruino interpreter itself, not Node).
// Times the JavaScript snippets for which a published run time exists on real
// hardware, so that nRF52 ms = host ms x (published ms / host ms) can be re-derived
// on any machine. Published figures and sources: host-tools/src/real-espruino/nrf52-speed.ts.
// Run in an empty working directory (it writes Storage files to espruino.flash):
//   sleep 120 | espruino-puckjs bench/cpu-factor.js
// Last line of output: one JSON object {"bench":"cpu-factor",...}; times in ms.
// With a global CPU_FACTOR_QUICK defined before this file (the specs prepend
// it), only the Storage-mode Mandelbrot runs, three times: about a second, to
// choose how fast a scenario may run its clock on this host.
// Comments stay outside the timed functions: Espruino lexes source as it runs,
// so a comment inside a loop would be timed too.

// Snippet 1, verbatim from github.com/espruino/BangleApps/issues/264 (the
// espruino.com/Fractals example with 16 iterations), timed there on a Bangle.js 1.
function mandelbrot(sizex,sizey) {
 for (var y=0;y<sizey;y++) {
  var line="";
  for (var x=0;x<sizex;x++) {
   var Xr=0;
   var Xi=0;
   var Cr=(4.0*x/sizex)-2.0;
   var Ci=(4.0*y/sizey)-2.0;
   var i=0;
   while ((i<16) && ((Xr*Xr+Xi*Xi)<4)) {
    var t=Xr*Xr - Xi*Xi + Cr;
    Xi=2*Xr*Xi+Ci;
    Xr=t;
    i++;
   }
   line += (i&1) ? "*" : " ";
  }
  print(line);
 }
}

// Snippet 2, the loop of the "Float Speed: Espruino Pico vs Pyboard" forum post
// (Dec 2017; globals as in the post). The post ran 1,000,000 iterations; here
// LEIBNIZ_N, scaled by the harness. A cross-check only (STM32F401, not nRF52).
var LEIBNIZ_N = 100000;
/* eslint-disable no-undef -- implicit globals, as in the post: the interpreter's speed with them is what was measured */
function leibniz() {
x = 1;
pi = 1;
for (i = 2; i < LEIBNIZ_N + 2; i++) {
    x = x * -1;
    pi = pi + (x / (2*i-1));
}
pi = pi * 4;
}
/* eslint-enable no-undef */

var CPU_FACTOR_REPS = 7;
/* global CPU_FACTOR_QUICK */
var quick = typeof CPU_FACTOR_QUICK !== "undefined";

(function () {
  var S = require("Storage");
  // CPU time of this thread (ns, Linux /proc/self/schedstat), so that other
  // processes sharing the host's cores do not inflate the figures; wall-clock
  // time (getTime) is recorded too. On a system without it: wall only.
  var fs;
  try { fs = require("fs"); fs.readFileSync("/proc/self/schedstat"); } catch (e) { fs = undefined; }
  var cpuNs = function () {
    return fs ? parseInt(fs.readFileSync("/proc/self/schedstat").split(" ")[0], 10) : NaN;
  };
  var runs = function (fn, a, b, n) {
    var r = { wallMs: [], cpuMs: [] };
    for (var k = 0; k < n; k++) {
      var c0 = cpuNs(), t0 = getTime();
      fn(a, b);
      var t1 = getTime(), c1 = cpuNs();
      r.wallMs.push(Number(((t1 - t0) * 1000).toFixed(3)));
      r.cpuMs.push(fs ? Number(((c1 - c0) / 1e6).toFixed(3)) : null);
    }
    return r;
  };
  // The four conditions of the published test: function text in RAM or read
  // back from Storage, each with and without pretokenisation.
  E.setFlags({ pretokenise: 0 });
  var src = "(" + mandelbrot.toString() + ")";
  if (quick) {
    S.write("cpufm", src);
    var mandelQuick = eval(S.read("cpufm"));
    mandelQuick(32, 32);
    print(JSON.stringify({ bench: "cpu-factor-quick", snippets: { "mandelbrot32-storage": runs(mandelQuick, 32, 32, 3) } }));
    S.erase("cpufm");
    return;
  }
  E.setFlags({ pretokenise: 1 });
  var mandelTok = eval(src);
  E.setFlags({ pretokenise: 0 });
  S.write("cpufm", src);
  var mandelFlash = eval(S.read("cpufm"));
  S.write("cpufmt", "(" + mandelTok.toString() + ")");
  var mandelFlashTok = eval(S.read("cpufmt"));
  var out = {
    bench: "cpu-factor",
    version: process.env.VERSION,
    board: process.env.BOARD,
    reps: CPU_FACTOR_REPS,
    snippets: {}
  };
  // Warm-up run: the first call allocates the strings the later ones reuse.
  mandelbrot(32, 32);
  out.snippets["mandelbrot32-ram"] = runs(mandelbrot, 32, 32, CPU_FACTOR_REPS);
  out.snippets["mandelbrot32-ram-pretokenised"] = runs(mandelTok, 32, 32, CPU_FACTOR_REPS);
  out.snippets["mandelbrot32-storage"] = runs(mandelFlash, 32, 32, CPU_FACTOR_REPS);
  out.snippets["mandelbrot32-storage-pretokenised"] = runs(mandelFlashTok, 32, 32, CPU_FACTOR_REPS);
  out.snippets["leibniz"] = runs(leibniz, 0, 0, 3);
  out.leibnizIterations = LEIBNIZ_N;
  out.leibnizPi = pi; // eslint-disable-line no-undef -- the global the snippet set
  S.erase("cpufm");
  S.erase("cpufmt");
  print(JSON.stringify(out));
})();
quit();
